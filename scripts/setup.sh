#!/usr/bin/env bash
# `make setup`: everything the demo needs, idempotent. See scripts/lib.sh for the settings.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_SITE=${DEMO_SITE:-cpts.localhost}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin}

started=$(date +%s)
hold_setup_lock
ensure_bench
ensure_site "$DEMO_SITE" "$ADMIN_PASSWORD"
bench use "$DEMO_SITE" >/dev/null
# A demo sends no email: notifications wait in the Email Queue (configure an Email Account and remove
# mute_emails from sites/cpts.localhost/site_config.json to send them).
bench --site "$DEMO_SITE" set-config mute_emails 1 >/dev/null
# Links in emails and PDFs (wkhtmltopdf fetches the print styles from it) use the address the bench answers on.
bench --site "$DEMO_SITE" set-config host_name "http://localhost:$WEB_PORT" >/dev/null
# The SAS platform's mTLS entry (nginx on 8443), only when SAS_MTLS_CERT is set (scripts/mtls.sh).
ensure_sas_mtls "$DEMO_SITE"
# The demo loader is idempotent: it only adds what is missing.
bench --site "$DEMO_SITE" execute cpts_snp.demo.loader.load >/dev/null
bench --site "$DEMO_SITE" execute cpts_snp.demo.year.load_year >/dev/null
bench --site "$DEMO_SITE" execute cpts_snp.demo.loader.load_finance >/dev/null
bench --site "$DEMO_SITE" execute cpts_snp.demo.partners.load >/dev/null
bench --site "$DEMO_SITE" execute cpts_snp.demo.interns.load >/dev/null
bench --site "$DEMO_SITE" execute cpts_snp.demo.meetings.load >/dev/null
log "Setup done in $(( $(date +%s) - started )) s"
