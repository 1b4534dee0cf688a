#!/usr/bin/env bash
# `make production`: the bench behind nginx (TLS, HTTP → HTTPS, gzip, long cache for hashed assets, security
# headers, the SAS mTLS entry when configured), every process supervised by a supervisord of its own (these
# machines have no systemd), systemd units written too for real servers. Idempotent: a second run re-renders the
# configuration and reloads (supervisorctl reread/update, nginx HUP, web and workers restarted on the new code).
# Follows bench's `bench setup nginx` / `bench setup supervisor` templates; the deviations are in the README
# (« Production »).
#
# Settings (environment variables):
#   PROD_SITE               the site served (default DEMO_SITE, cpts.localhost)
#   PROD_HOST               public host name: nginx server_name, self-signed certificate, site host_name
#                           (default: hostname -f)
#   PROD_HTTPS_PORT         HTTPS port (default 443)      PROD_HTTP_PORT   HTTP port, redirects (default 80)
#   PROD_BIND               listen address of both (default: every interface)
#   TLS_CERT, TLS_KEY       the certificate (with its chain) and key of PROD_HOST; without them a self-signed
#                           certificate is generated into config/tls/ (renewed when the host changes or it expires)
#   PROD_WEB_PORT           gunicorn on 127.0.0.1 (default WEB_PORT, 8000)
#   PROD_SOCKETIO_PORT      socketio on 127.0.0.1 (default 9000)
#   PROD_GUNICORN_WORKERS   gunicorn workers (default 2 × CPUs + 1, as bench)
#   PROD_WORKERS            RQ worker processes (default 1)
#   PROD_CONFIG_DIR         where configuration is written (default config/)   PROD_LOG_DIR (default logs/)
#   SAS_MTLS_*              the SAS platform's mTLS entry (scripts/mtls.sh), served by the same nginx
#
# The render and start functions work on their own when this file is sourced (tests/test_production_stack.py
# runs them with its own ports, directory and the test site).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# the daily backup's supervised timer and systemd units (render_backup_schedule)
source "$(dirname "${BASH_SOURCE[0]}")/backup.sh"

PRODUCTION_TEMPLATES=$ROOT/scripts/templates

# production_settings: every PROD_* setting with its default, checked (the values end up in configuration files).
production_settings() {
	PROD_SITE=${PROD_SITE:-${DEMO_SITE:-cpts.localhost}}
	PROD_HOST=${PROD_HOST:-$(hostname -f 2>/dev/null || hostname)}
	PROD_HTTPS_PORT=${PROD_HTTPS_PORT:-443}
	PROD_HTTP_PORT=${PROD_HTTP_PORT:-80}
	PROD_BIND=${PROD_BIND:-}
	PROD_WEB_PORT=${PROD_WEB_PORT:-$WEB_PORT}
	PROD_SOCKETIO_PORT=${PROD_SOCKETIO_PORT:-$SOCKETIO_PORT}
	PROD_GUNICORN_WORKERS=${PROD_GUNICORN_WORKERS:-$(($(nproc) * 2 + 1))}
	PROD_WORKERS=${PROD_WORKERS:-1}
	PROD_CONFIG_DIR=${PROD_CONFIG_DIR:-$ROOT/config}
	PROD_LOG_DIR=${PROD_LOG_DIR:-$ROOT/logs}
	if [ "$(id -u)" -eq 0 ]; then
		# root runs the bench's processes as the owner of the checkout (bench's frappe_user)
		PROD_USER=${PROD_USER:-$(stat -c %U "$ROOT")}
	else
		PROD_USER=${PROD_USER:-$(id -un)}
	fi
	local name value
	[[ $PROD_SITE =~ ^[A-Za-z0-9.-]+$ ]] || die "invalid PROD_SITE '$PROD_SITE'"
	[[ $PROD_HOST =~ ^[A-Za-z0-9.-]+$ ]] || die "invalid PROD_HOST '$PROD_HOST'"
	local bind_re='^([0-9.]*|\[[0-9A-Fa-f:]+\])$'
	[[ $PROD_BIND =~ $bind_re ]] || die "invalid PROD_BIND '$PROD_BIND'"
	[[ $PROD_USER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "invalid PROD_USER '$PROD_USER'"
	for name in PROD_HTTPS_PORT PROD_HTTP_PORT PROD_WEB_PORT PROD_SOCKETIO_PORT PROD_GUNICORN_WORKERS PROD_WORKERS; do
		value=${!name}
		[[ $value =~ ^[0-9]+$ ]] && [ "$value" -ge 1 ] && [ "$value" -le 65535 ] || die "invalid $name '$value'"
	done
	PROD_NGINX_PREFIX=$PROD_CONFIG_DIR/nginx-production
	PROD_SUPERVISOR_CONF=$PROD_CONFIG_DIR/supervisor/supervisord.conf
}

# fill_template FILE NAME=VALUE…: FILE's text with every @@NAME@@ replaced by its value, on stdout.
fill_template() {
	local text pair
	text=$(<"$1")
	shift
	for pair in "$@"; do
		text=${text//@@${pair%%=*}@@/${pair#*=}}
	done
	printf '%s\n' "$text"
}

# ensure_tls_certificate: PROD_TLS_CERT/PROD_TLS_KEY, TLS_CERT/TLS_KEY when given, otherwise a self-signed
# certificate for PROD_HOST in config/tls/ (kept while it names the host and is valid for 30 more days).
ensure_tls_certificate() {
	if [ -n "${TLS_CERT:-}" ] || [ -n "${TLS_KEY:-}" ]; then
		[ -f "${TLS_CERT:-}" ] && [ -f "${TLS_KEY:-}" ] || die "TLS_CERT and TLS_KEY must both name existing files"
		PROD_TLS_CERT=$(realpath "$TLS_CERT")
		PROD_TLS_KEY=$(realpath "$TLS_KEY")
		return 0
	fi
	local dir=$PROD_CONFIG_DIR/tls san
	PROD_TLS_CERT=$dir/cert.pem
	PROD_TLS_KEY=$dir/key.pem
	san=$(production_tls_san) # every name served (`make add-site`)
	if [ -f "$PROD_TLS_CERT" ] && [ -f "$PROD_TLS_KEY" ] &&
		openssl x509 -in "$PROD_TLS_CERT" -noout -checkend $((30 * 86400)) >/dev/null 2>&1 &&
		openssl x509 -in "$PROD_TLS_CERT" -noout -ext subjectAltName 2>/dev/null | grep -qx "[[:space:]]*${san//IP:/IP Address:}"; then
		return 0
	fi
	log "Generating a self-signed TLS certificate for $PROD_HOST (config/tls/; set TLS_CERT and TLS_KEY for a real one)"
	mkdir -p "$dir"
	chmod 700 "$dir"
	(umask 077 && openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 365 -subj "/CN=$PROD_HOST" \
		-addext "subjectAltName=$san" -addext "extendedKeyUsage=serverAuth" \
		-keyout "$PROD_TLS_KEY" -out "$PROD_TLS_CERT" 2>/dev/null) || die "openssl could not create the certificate"
	chmod 644 "$PROD_TLS_CERT"
}

# site_proxy_secret SITE: the site's cpts_proxy_secret (the SAS mTLS entry's shared secret), created once.
site_proxy_secret() {
	local secret
	secret=$("$ENV_DIR/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("cpts_proxy_secret") or "")' \
		"$ROOT/sites/$1/site_config.json")
	if [ -z "$secret" ]; then
		secret=$("$ENV_DIR/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
		bench --site "$1" set-config cpts_proxy_secret "$secret" >/dev/null
	fi
	printf '%s' "$secret"
}

# production_site_map: "NAME SITE" lines, the site nginx serves for each host name: PROD_HOST → PROD_SITE, then
# every site `make add-site` created (DNS multitenancy: `"cpts_multisite": 1` in its site_config.json; its name
# is its host name) with the extra names of its `domains` (as `bench setup add-domain` writes them).
production_site_map() {
	printf '%s %s\n' "$PROD_HOST" "$PROD_SITE"
	"$ENV_DIR/bin/python" - "$ROOT/sites" "$PROD_SITE" "$PROD_HOST" <<-'EOF'
		import json, re, sys
		from pathlib import Path
		sites, main, host = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
		seen = {host}
		for config in sorted(sites.glob("*/site_config.json")):
		    site = config.parent.name
		    try:
		        conf = json.loads(config.read_text())
		    except ValueError:
		        continue
		    if site != main and not conf.get("cpts_multisite"):
		        continue
		    names = [site] + [d.get("domain") if isinstance(d, dict) else d for d in conf.get("domains") or []]
		    for name in names:
		        if name and re.fullmatch(r"[a-z0-9.-]+", name) and name not in seen:
		            seen.add(name)
		            print(name, site)
	EOF
}

# production_tls_san: the subjectAltName of the self-signed certificate, every host name served ("DNS:a, DNS:b").
production_tls_san() {
	local name _site san=""
	while read -r name _site; do
		if [[ $name =~ ^[0-9.]+$ ]]; then san+="IP:$name, "; else san+="DNS:$name, "; fi
	done < <(production_site_map)
	printf '%s' "${san%, }"
}

# ensure_added_sites: every site `make add-site` created, migrated when the code changed (as PROD_SITE is).
ensure_added_sites() {
	local site
	for site in $(production_site_map | cut -d' ' -f2 | sort -u); do
		[ "$site" != "$PROD_SITE" ] || continue
		if site_db_ok "$site"; then ensure_site "$site" unused; else log "WARNING: the database of $site is not reachable"; fi
	done
}

# nginx_mime_types: the mime.types file next to nginx's own configuration (Debian: /etc/nginx/mime.types).
nginx_mime_types() {
	local conf
	conf=$(nginx -V 2>&1 | grep -o 'conf-path=[^ ]*' | cut -d= -f2)
	printf '%s/mime.types' "$(dirname "${conf:-/etc/nginx/nginx.conf}")"
}

# production_sas_mtls_map [PROXY_SECRET]: "NAME SITE SECRET" lines, production_site_map with each site's own
# proxy secret (site_proxy_secret; PROXY_SECRET, when given, is PROD_SITE's): the SAS mTLS entry's maps.
production_sas_mtls_map() {
	local name site main_secret=${1:-}
	local -A secrets=()
	[ -z "$main_secret" ] || secrets[$PROD_SITE]=$main_secret
	while read -r name site; do
		if [ -z "${secrets[$site]:-}" ]; then
			secrets[$site]=$(site_proxy_secret "$site") && [ -n "${secrets[$site]}" ] || return 1
		fi
		printf '%s %s %s\n' "$name" "$site" "${secrets[$site]}"
	done < <(production_site_map)
}

# render_production_nginx [PROXY_SECRET]: PROD_NGINX_PREFIX/{nginx.conf, cpts-production.conf, headers.conf and,
# when SAS_MTLS_CERT is set, sas-mtls.conf: the SAS mTLS entry of every site, each with its own proxy secret},
# checked with nginx -t. nginx runs in the foreground (supervised).
render_production_nginx() {
	local secret=${1:-} prefix=$PROD_NGINX_PREFIX http_listen https_listen port_suffix="" mtls_include=""
	local name site server_names="" site_map=""
	while read -r name site; do
		server_names+="$name "
		site_map+=$'\t'"$name $site;"$'\n'
	done < <(production_site_map)
	command -v nginx >/dev/null || die "nginx is not installed (scripts/lib.sh APT_PACKAGES)"
	mkdir -p "$prefix"
	chmod 755 "$prefix" # nginx's workers (an unprivileged user) reach their temporary files
	http_listen=${PROD_BIND:+$PROD_BIND:}$PROD_HTTP_PORT
	https_listen=${PROD_BIND:+$PROD_BIND:}$PROD_HTTPS_PORT
	if [ "$PROD_HTTPS_PORT" != 443 ]; then port_suffix=":$PROD_HTTPS_PORT"; fi
	if [ -n "${SAS_MTLS_CERT:-}" ]; then
		local mtls_map
		mtls_map=$(production_sas_mtls_map "$secret") || die "SAS mTLS: could not read the sites' proxy secrets"
		render_sas_mtls_sites "$prefix/sas-mtls.conf" "http://127.0.0.1:$PROD_WEB_PORT" "$mtls_map" ||
			die "SAS mTLS: could not write the nginx configuration"
		mtls_include="include $prefix/sas-mtls.conf;"
	else
		rm -f "$prefix/sas-mtls.conf"
	fi
	cat >"$prefix/headers.conf" <<-'EOF'
		# Written by scripts/production.sh: the security headers of every answer (included where a location adds headers)
		add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
		add_header X-Frame-Options "SAMEORIGIN" always;
		add_header X-Content-Type-Options "nosniff" always;
		add_header Referrer-Policy $cpts_referrer_policy always;
	EOF
	fill_template "$PRODUCTION_TEMPLATES/nginx-production.conf" \
		"WEB_PORT=$PROD_WEB_PORT" "SOCKETIO_PORT=$PROD_SOCKETIO_PORT" \
		"HTTP_LISTEN=$http_listen" "HTTPS_LISTEN=$https_listen" "HTTPS_PORT_SUFFIX=$port_suffix" \
		"SERVER_NAME=${server_names% }" "SITE_MAP=${site_map%$'\n'}" "SITES_PATH=$ROOT/sites" "SITE=$PROD_SITE" \
		"TLS_CERT=$PROD_TLS_CERT" "TLS_KEY=$PROD_TLS_KEY" "HEADERS_CONF=$prefix/headers.conf" \
		"MIME_TYPES=$(nginx_mime_types)" "SAS_MTLS_INCLUDE=$mtls_include" >"$prefix/cpts-production.conf"
	write_nginx_main_conf "$prefix" "$prefix/cpts-production.conf" off
	nginx -t -q -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" ||
		die "nginx refuses its configuration (see $prefix/error.log)"
}

# The placeholders shared by supervisord.conf and the systemd units.
production_values() {
	printf '%s\n' "CONF_DIR=$PROD_CONFIG_DIR" "LOG_DIR=$PROD_LOG_DIR" "BENCH_DIR=$ROOT" "USER=$PROD_USER" \
		"GROUP=$(id -gn "$PROD_USER")" "WEB_PORT=$PROD_WEB_PORT" "SOCKETIO_PORT=$PROD_SOCKETIO_PORT" \
		"GUNICORN_WORKERS=$PROD_GUNICORN_WORKERS" "WORKERS=$PROD_WORKERS" "NODE=$(command -v node)" \
		"NGINX=$(command -v nginx)" "NGINX_PREFIX=$PROD_NGINX_PREFIX" "REDIS_SERVER=$(command -v redis-server)"
}

# render_production_supervisor: PROD_CONFIG_DIR/supervisor/supervisord.conf.
render_production_supervisor() {
	local values
	mapfile -t values < <(production_values)
	mkdir -p "$PROD_CONFIG_DIR/supervisor/run" "$PROD_LOG_DIR"
	# gunicorn (run as PROD_USER) writes its pid there
	if [ "$(id -u)" -eq 0 ]; then chown "$PROD_USER" "$PROD_CONFIG_DIR/supervisor/run"; fi
	fill_template "$PRODUCTION_TEMPLATES/supervisord.conf" "${values[@]}" >"$PROD_SUPERVISOR_CONF"
}

# render_production_systemd: PROD_CONFIG_DIR/systemd/, units for a server with systemd (never started here):
# copy them to /etc/systemd/system/, then `systemctl daemon-reload && systemctl enable --now cpts-snp.target`.
render_production_systemd() {
	local values unit workers="" i dir=$PROD_CONFIG_DIR/systemd
	mapfile -t values < <(production_values)
	for i in $(seq 1 "$PROD_WORKERS"); do workers+="cpts-snp-worker@$i.service "; done
	mkdir -p "$dir"
	for unit in "$PRODUCTION_TEMPLATES"/cpts-snp*.service "$PRODUCTION_TEMPLATES"/cpts-snp.target; do
		fill_template "$unit" "${values[@]}" "WORKER_UNITS=${workers% }" >"$dir/$(basename "$unit")"
	done
}

supervisorctl_production() { $SUDO supervisorctl -c "$PROD_SUPERVISOR_CONF" "$@"; }

supervisord_running() {
	local pidfile=$PROD_CONFIG_DIR/supervisor/supervisord.pid
	[ -f "$pidfile" ] && $SUDO kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# start_production: supervisord started, or, when it runs already, told about the new configuration
# (reread/update), nginx reloaded and the web server and workers restarted on the current code.
start_production() {
	if supervisord_running; then
		log "Reloading the supervised processes"
		supervisorctl_production reread >/dev/null
		supervisorctl_production update >/dev/null
		supervisorctl_production start all >/dev/null || true
		supervisorctl_production signal HUP cpts-web:cpts-nginx >/dev/null
		supervisorctl_production restart cpts-web:cpts-frappe-web cpts-web:cpts-node-socketio 'cpts-workers:*' >/dev/null
	else
		log "Starting supervisord ($PROD_SUPERVISOR_CONF)"
		# 9>&-: supervisord must not inherit the setup lock
		$SUDO supervisord -c "$PROD_SUPERVISOR_CONF" 9>&-
	fi
}

# wait_for_production [SECONDS]: true once the site answers through nginx over HTTPS.
wait_for_production() {
	local deadline=$((SECONDS + ${1:-90}))
	while [ $SECONDS -lt $deadline ]; do
		if curl -fsS -o /dev/null --max-time 5 --cacert "$PROD_TLS_CERT" \
			--resolve "$PROD_HOST:$PROD_HTTPS_PORT:${PROD_BIND:-127.0.0.1}" \
			"https://$PROD_HOST:$PROD_HTTPS_PORT/api/method/ping" 2>/dev/null ||
			curl -fsSk -o /dev/null --max-time 5 -H "Host: $PROD_HOST" \
				"https://${PROD_BIND:-127.0.0.1}:$PROD_HTTPS_PORT/api/method/ping" 2>/dev/null; then
			return 0
		fi
		sleep 1
	done
	return 1
}

# stop_production: every supervised process (nginx included) and supervisord itself.
stop_production() {
	local pidfile=$PROD_CONFIG_DIR/supervisor/supervisord.pid pid i
	supervisord_running || return 0
	pid=$(cat "$pidfile")
	supervisorctl_production shutdown >/dev/null || true
	for i in $(seq 1 60); do $SUDO kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
	die "supervisord ($pid) did not stop"
}

# The standalone SAS mTLS nginx of `make setup` (config/nginx/): production's nginx serves that entry instead.
stop_standalone_mtls_nginx() {
	local prefix=$ROOT/config/nginx
	if [ -f "$prefix/nginx.pid" ] && kill -0 "$(cat "$prefix/nginx.pid")" 2>/dev/null; then
		log "Stopping the standalone SAS mTLS nginx (production's nginx serves that entry)"
		nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" -s quit || true
		sleep 1
	fi
}

production_main() {
	local started scheme_port=""
	started=$(date +%s)
	production_settings
	[ "${1:-}" != stop ] || { stop_production; log "Production processes stopped"; return 0; }
	hold_setup_lock
	ensure_bench
	ensure_site "$PROD_SITE" "${ADMIN_PASSWORD:-admin}"
	ensure_added_sites
	if [ "$PROD_HTTPS_PORT" != 443 ]; then scheme_port=":$PROD_HTTPS_PORT"; fi
	# links in emails and PDFs name the public HTTPS address
	bench --site "$PROD_SITE" set-config host_name "https://$PROD_HOST$scheme_port" >/dev/null
	release_setup_lock
	ensure_tls_certificate
	render_production_nginx
	render_production_supervisor
	render_production_systemd
	render_backup_schedule
	if [ -n "${SAS_MTLS_CERT:-}" ]; then stop_standalone_mtls_nginx; fi
	start_production
	wait_for_production 120 || die "the site does not answer on https://$PROD_HOST$scheme_port (see $PROD_LOG_DIR/web.error.log, $PROD_NGINX_PREFIX/error.log)"
	supervisorctl_production status || true
	cat <<-MSG

		  cpts_snp answers on https://$PROD_HOST$scheme_port  (site $PROD_SITE; http://…:$PROD_HTTP_PORT redirects)
		  processes: supervisorctl -c $PROD_SUPERVISOR_CONF status
		  systemd units for a real server: $PROD_CONFIG_DIR/systemd/
		  production ready in $(($(date +%s) - started)) s
	MSG
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	production_main "$@"
fi
