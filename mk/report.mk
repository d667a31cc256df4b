# trunkctl report (internal/report): its test peers and its benchmark.
# Mermaid's own CLI (pinned in package.json) parses the flowcharts on the
# system Chromium (Debian's chromium, which .ci/install-peers installs), so
# puppeteer downloads no browser of its own.
export PUPPETEER_SKIP_DOWNLOAD := 1
MMDC := node_modules/.bin/mmdc
TEST_DEPS += $(MMDC)
BENCHES += bench-report

.PHONY: bench-report

$(MMDC): package.json package-lock.json
	npm ci --no-audit --no-fund
	@test -f node_modules/go.mod || npm run --silent postinstall
	@touch $@

# The report of the 2,000-instance bench cluster: size, and headless
# Chromium's render time (docs/benchmarks.md).
bench-report:
	$(GO) test -count=1 -run '^TestReportOfTheBenchCluster$$' -v ./cli/
