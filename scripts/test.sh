#!/usr/bin/env bash
# `make test`: build the bench if needed, create or refresh the test site, run the whole pytest suite.
# Extra arguments go to pytest (e.g. `make test ARGS="-k booking"`).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_SITE=${TEST_SITE:-test.localhost}

hold_setup_lock
ensure_bench
ensure_site "$TEST_SITE" admin
bench --site "$TEST_SITE" set-config allow_tests true >/dev/null
bench --site "$TEST_SITE" set-config mute_emails 1 >/dev/null
# Tests create many users; Frappe otherwise refuses more than 60 new users an hour.
bench --site "$TEST_SITE" set-config --parse throttle_user_limit 1000000 >/dev/null
ensure_axe_core
release_setup_lock
cd "$ROOT"
export CPTS_TEST_SITE=$TEST_SITE
exec "$ENV_DIR/bin/python" -m pytest "$@"
