# The two commands README promises, and the steps behind them.
.PHONY: demo test setup build fuzz

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

build:
	bash scripts/build.sh

fuzz:
	bash scripts/fuzz.sh
