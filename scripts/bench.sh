#!/usr/bin/env bash
# `make bench`: the benchmarks of tests/bench/ against the test site (results go to docs/benchmarks.md by hand).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_SITE=${TEST_SITE:-test.localhost}
hold_setup_lock
ensure_bench
ensure_site "$TEST_SITE" admin
release_setup_lock
cd "$ROOT"
for bench_script in tests/bench/bench_*.py; do
	log "$bench_script"
	"$ENV_DIR/bin/python" "$bench_script" --site "$TEST_SITE"
done
