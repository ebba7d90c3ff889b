# The two commands README promises, and the steps behind them.
.PHONY: demo test setup build fuzz bench

# make demo SERVE=1 keeps the Collector and the backend running for your
# own browser (scripts/demo.sh --serve).
demo:
	bash scripts/demo.sh $(if $(SERVE),--serve)

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

build:
	bash scripts/build.sh

fuzz:
	bash scripts/fuzz.sh

# Waggle and the OpenTelemetry JS web stack side by side in headless
# Chromium; results in bench/RESULTS.md. make bench ARGS='--runs 3'
bench:
	bash scripts/bench.sh $(ARGS)
