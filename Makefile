# preview-environments: one entry point for building, testing and running.
#
# Each part of the monorepo owns a fragment in mk/<part>.mk that appends its
# own targets to the aggregate lists below, so parts can grow without editing
# this file (and without merge fights over it).
#
#   make demo   the whole PR lifecycle on the local sandbox
#   make test   every test, offline; cloud suites skip without credentials

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BIN  := $(ROOT)/bin
export PATH := $(BIN):$(PATH)
export GOWORK := $(ROOT)/go.work
# VCS stamping needs a .git with history; CI clones and tarballs may not have it.
export GOFLAGS := -buildvcs=false
# Terraform/OpenTofu must never call home or read a stray user config.
export CHECKPOINT_DISABLE := 1
export TF_CLI_CONFIG_FILE := $(ROOT)/.cache/tf/cli.tfrc

# Go modules of the workspace, from go.work itself (one source of truth).
GO_MODULES := $(shell sed -n 's|^[[:space:]]*\./\([^[:space:]]*\)$$|\1|p' $(ROOT)/go.work)
GO_PKGS    := $(addprefix ./,$(addsuffix /...,$(GO_MODULES)))

# Pinned tools every fragment may depend on. Defined here, before the
# fragments are read, because make expands prerequisites as it reads them.
TOOLS_STAMP := $(BIN)/.tools-stamp
TOFU        := $(BIN)/tofu

# Aggregates that fragments append to.
BUILD_TARGETS :=
TEST_TARGETS  :=
LINT_TARGETS  :=
BENCH_TARGETS :=
TOOLS_TARGETS :=

include $(sort $(wildcard $(ROOT)/mk/*.mk))

.PHONY: build test lint fmt bench tools demo e2e clean go-test go-vet gofmt-check help

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: $(BUILD_TARGETS) ## build every binary into bin/

tools: $(TOOLS_TARGETS) ## build every pinned tool into bin/

test: go-test $(TEST_TARGETS) ## run every test (offline; cloud suites skip)

go-test: tools
	go test -count=1 $(GO_PKGS)

lint: gofmt-check go-vet $(LINT_TARGETS) ## gofmt, go vet, actionlint, tofu fmt, opa check

go-vet:
	go vet $(GO_PKGS)

gofmt-check:
	@out=$$(gofmt -l $(GO_MODULES) tools); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

fmt: ## format Go, Terraform and Rego sources
	gofmt -w $(GO_MODULES) tools

bench: $(BENCH_TARGETS) ## run every benchmark and write bench/results.md

clean: ## remove build outputs and caches made by this Makefile
	rm -rf $(BIN) $(ROOT)/.cache
