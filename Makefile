# The two commands README promises, and the steps behind them.
.PHONY: demo test setup build fuzz bench package guide-rust

# make demo SERVE=1 keeps the Collector and the backend running for your
# own browser (scripts/demo.sh --serve).
demo:
	bash scripts/demo.sh $(if $(SERVE),--serve)

test:
	bash scripts/test.sh

# A measurement, not a test: about two minutes of rising load on loopback
# against the Honeycomb relay; writes docs/load-test.md.
.PHONY: load sampling-check
load:
	bash scripts/setup.sh
	node scripts/load-test.mjs

# The tail-sampling tiers of docs/deployment.md on loopback; builds their
# Collector the first time (minutes).
sampling-check:
	bash scripts/setup.sh
	node scripts/tail-sampling-check.mjs

setup:
	bash scripts/setup.sh

build:
	bash scripts/build.sh

# The npm tarball and the versioned CDN folder in dist/, with the SRI and
# CSP hashes printed. make package WAGGLE_CDN_BASE=https://cdn.example.com/waggle-rum
package: build
	bash scripts/package.sh

# The Rust service of docs/guides.md against the real Collector (also part
# of make test).
guide-rust:
	bash scripts/setup.sh
	node --test tests/e2e/guides-rust.test.mjs

fuzz:
	bash scripts/fuzz.sh

# Waggle and the OpenTelemetry JS web stack side by side in headless
# Chromium, issue 12's budgets judged; results in bench/RESULTS.md.
# make bench ARGS='--runs 5'
bench:
	bash scripts/bench.sh $(ARGS)
