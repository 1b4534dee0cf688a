# cpts_snp — the two commands of the README.
#   make run    set everything up (idempotent) and start desk + portal on http://localhost:8000 with demo data
#   make test   build what is missing, refresh the test site and run the whole test suite
.PHONY: setup run test bench

setup:
	@bash scripts/setup.sh

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh $(ARGS)

# Benchmarks (speed and query-count targets; not part of `make test`)
bench:
	@bash scripts/bench.sh
