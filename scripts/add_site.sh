#!/usr/bin/env bash
# `make add-site NAME=cpts-nord.example.fr`: one more CPTS on this bench (DNS multitenancy). The site is named
# after its host name and has its own database (settings, data, users), its own Administrator password and its
# own address (`host_name` https://NAME); the production nginx (scripts/production.sh) serves it by that name,
# with a self-signed certificate naming every site unless TLS_CERT/TLS_KEY are given (they must then cover it).
# Idempotent: a second run migrates the site when the code changed and re-renders and reloads nginx.
#
# Settings (environment variables):
#   ADMIN_PASSWORD   the site's Administrator password: set at creation (generated and printed when absent),
#                    set again on an existing site when given
#   DEMO=1           load the demo data (users, doctors, a past year of activity, partners, interns); the site
#                    then sends no email (mute_emails), as the demo site
#   PROD_*           as for `make production` (its HTTPS port goes into the site's address; PROD_CONFIG_DIR is
#                    where the nginx configuration to re-render lives)
source "$(dirname "${BASH_SOURCE[0]}")/production.sh"

SITE_NAME_RE='^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'

# load_demo_data SITE: the demo loaders of `make setup`, idempotent (they only add what is missing).
load_demo_data() {
	local site=$1 step
	log "Loading the demo data into $site"
	bench --site "$site" set-config mute_emails 1 >/dev/null
	for step in cpts_snp.demo.loader.load cpts_snp.demo.year.load_year cpts_snp.demo.loader.load_finance \
		cpts_snp.demo.partners.load cpts_snp.demo.interns.load cpts_snp.demo.meetings.load; do
		bench --site "$site" execute "$step" >/dev/null || die "demo loader $step failed on $site"
	done
}

# mark_multisite SITE URL: the site is served by the production nginx under its own name (`cpts_multisite`),
# its links name URL; the bench declares DNS multitenancy (bench's `dns_multitenant`).
mark_multisite() {
	"$ENV_DIR/bin/python" - "$ROOT/sites" "$1" "$2" <<-'EOF'
		import json, sys
		from pathlib import Path
		sites, site, url = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
		for path, values in ((sites / site / "site_config.json", {"cpts_multisite": 1, "host_name": url}),
		        (sites / "common_site_config.json", {"dns_multitenant": True})):
		    conf = json.loads(path.read_text())
		    if any(conf.get(key) != value for key, value in values.items()):
		        conf.update(values)
		        path.write_text(json.dumps(conf, indent=1, sort_keys=True))
	EOF
}

# reload_production_nginx: when the production configuration exists, rendered again (every site's name in the
# map, server_name and certificate) and, when supervisord runs, nginx reloaded in place (HUP).
reload_production_nginx() {
	if [ ! -f "$PROD_NGINX_PREFIX/cpts-production.conf" ]; then
		log "No production configuration in $PROD_CONFIG_DIR yet: \`make production\` will serve the site"
		return 0
	fi
	ensure_tls_certificate
	render_production_nginx
	if supervisord_running; then
		log "Reloading nginx"
		supervisorctl_production signal HUP cpts-web:cpts-nginx >/dev/null
	fi
}

add_site_main() {
	local site=${1:-} password=${ADMIN_PASSWORD:-} generated="" url port_suffix=""
	[ -n "$site" ] || die "usage: make add-site NAME=cpts-nord.example.fr"
	[[ $site =~ $SITE_NAME_RE ]] || die "invalid site name '$site': a lower-case DNS name (e.g. cpts-nord.example.fr)"
	production_settings
	if [ "$PROD_HTTPS_PORT" != 443 ]; then port_suffix=":$PROD_HTTPS_PORT"; fi
	url="https://$site$port_suffix"
	hold_setup_lock
	ensure_bench
	local existed="" said
	if [ -f "$ROOT/sites/$site/site_config.json" ] && site_db_ok "$site"; then existed=1; fi
	if [ -z "$existed" ] && [ -z "$password" ]; then
		password=$("$ENV_DIR/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))')
		generated=1
	fi
	ensure_site "$site" "$password"
	if [ -n "$existed" ] && [ -n "$password" ]; then
		bench --site "$site" set-admin-password "$password" >/dev/null
	fi
	if [ -n "$generated" ]; then
		said="$password  (generated: keep it, it is stored nowhere else)"
	elif [ -n "$password" ]; then
		said="the one given in ADMIN_PASSWORD"
	else
		said="unchanged"
	fi
	mark_multisite "$site" "$url"
	if [ "${DEMO:-0}" = 1 ]; then load_demo_data "$site"; fi
	release_setup_lock
	reload_production_nginx
	cat <<-MSG

		  CPTS site $site: $url  (desk: /app, doctors' portal: /snp)
		  Administrator password: $said
		  DNS: $site must point at this server (an A/AAAA record, or /etc/hosts for a trial)
	MSG
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	add_site_main "$@"
fi
