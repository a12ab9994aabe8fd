# previewctl/pkg/sandbox/dashboard: the sandbox's live page. Its tests run in
# go-test; the browser test drives Debian's Chromium headless, so `make tools`
# (a prerequisite of go-test) installs Chromium when it is missing.

CHROMIUM ?= /usr/bin/chromium

TOOLS_TARGETS += chromium

.PHONY: chromium dashboard-screenshot

# apt-get only when the browser is absent and we may install it; otherwise
# say how, and let the browser test fail with the same advice.
chromium: ## headless Chromium for the dashboard's browser test (apt-get, as root, when missing)
	@if command -v chromium >/dev/null 2>&1 || [ -x '$(CHROMIUM)' ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "chromium: not installed; installing Debian's chromium (apt-get)"; \
	  t0=$$(date +%s); \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  echo "chromium: installed $$(chromium --version 2>/dev/null) in $$(( $$(date +%s) - t0 )) s"; \
	else \
	  echo "chromium: not installed and not root: run 'sudo apt-get update && sudo apt-get install -y chromium' (the dashboard's browser test needs it)"; \
	fi

dashboard-screenshot: $(TOOLS_STAMP) chromium ## re-take docs/dashboard.png from the browser test
	UPDATE_SCREENSHOT=1 go test -count=1 -run '^TestBrowserLiveEnvironment$$' ./previewctl/pkg/sandbox/dashboard/
