# service/: the Lambda, its packager and the emulator helper.
#
#   make package VERSION=<40-hex sha|latest> [COMMIT=<sha>] [ARCH=amd64] [OUT=dir]
#     builds the deterministic artifact zip and prints its sha256 (hex, base64)

SERVICE_DIR := $(ROOT)/service
SERVICE_SRC := $(shell find $(SERVICE_DIR) -name '*.go' -not -name '*_test.go') $(SERVICE_DIR)/go.mod $(SERVICE_DIR)/go.sum

BUILD_TARGETS += $(BIN)/package $(BIN)/bootstrap

$(BIN)/package: $(SERVICE_SRC)
	@mkdir -p $(BIN)
	cd $(SERVICE_DIR) && go build -trimpath -o $@ ./cmd/package

# A compile check of the Lambda as it ships (linux/arm64, version "dev");
# real artifacts come from bin/package, which links the version in.
$(BIN)/bootstrap: $(SERVICE_SRC)
	@mkdir -p $(BIN)
	cd $(SERVICE_DIR) && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 \
	  go build -trimpath -tags lambda.norpc -ldflags '-s -w -buildid=' -o $@ ./cmd/bootstrap

.PHONY: package
ARCH ?= arm64
OUT  ?= $(ROOT)/.cache/artifacts
package: $(BIN)/package ## build the service artifact: make package VERSION=<sha|latest> [COMMIT=<sha>]
	$(BIN)/package --version '$(VERSION)' $(if $(COMMIT),--commit '$(COMMIT)') --arch '$(ARCH)' --out '$(OUT)' --source $(SERVICE_DIR)

.PHONY: service-build
service-build: $(BIN)/package $(BIN)/bootstrap ## build bin/package and bin/bootstrap only
