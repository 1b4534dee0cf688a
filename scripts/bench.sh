#!/usr/bin/env bash
# `make bench`: the benchmarks of tests/bench/ against the test site (results go to docs/benchmarks.md by hand).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_SITE=${TEST_SITE:-test.localhost}
BENCH_SITE=${BENCH_SITE:-bench.localhost}
hold_setup_lock
ensure_bench
ensure_site "$TEST_SITE" admin
ensure_site "$BENCH_SITE" admin
release_setup_lock
cd "$ROOT"
log "tests/bench/bench_payment_run.py"
"$ENV_DIR/bin/python" tests/bench/bench_payment_run.py --site "$TEST_SITE"
log "tests/bench/bench_http.py (gunicorn on loopback; 200 doctors, 100,000 slots, 30 sectors on $BENCH_SITE)"
"$ENV_DIR/bin/python" tests/bench/bench_http.py --site "$BENCH_SITE"
DEMO_SITE=${DEMO_SITE:-cpts.localhost}
if [ -f "$ROOT/sites/$DEMO_SITE/site_config.json" ]; then
	log "tests/bench/bench_phone.py (Fast-3G phone in Chromium through the production stack; demo data of $DEMO_SITE)"
	"$ENV_DIR/bin/python" tests/bench/bench_phone.py --site "$DEMO_SITE"
else
	log "tests/bench/bench_phone.py skipped: no demo site $DEMO_SITE (make setup)"
fi
