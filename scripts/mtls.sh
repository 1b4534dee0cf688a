#!/usr/bin/env bash
# The national SAS platform's entry: nginx terminates mutual TLS (IGC-Santé client certificates) in front of the
# Frappe web server and passes the verified certificate's subject to the application (/fhir/ only).
# Sourced by scripts/lib.sh; the render functions also work on their own (the tests source this file alone).
#
# Settings (environment variables; nothing happens unless SAS_MTLS_CERT is set):
#   SAS_MTLS_CERT, SAS_MTLS_KEY  the server certificate (with its chain) and key of the public name
#   SAS_MTLS_CLIENT_CA           CA bundle the client certificates must chain to (IGC-Santé roots and intermediates)
#   SAS_MTLS_CRL                 optional: the CAs' revocation lists, concatenated (PEM)
#   SAS_MTLS_LISTEN              listen address (default 8443: every interface, port 8443)
#   SAS_MTLS_SERVER_NAME         server_name of the standalone entry (default _); `make production`'s entry serves
#                                every site of the bench by its host name instead (render_sas_mtls_sites)
#   SAS_MTLS_UPSTREAM            the Frappe web server (default http://127.0.0.1:$WEB_PORT)
# The shared secret proving a request came through nginx is the site config key cpts_proxy_secret (generated
# once, never committed; each site its own); nginx's files go to config/nginx/ (ignored by git).

SAS_MTLS_TEMPLATE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/templates/nginx-sas-mtls.conf

# render_sas_mtls_server OUT SITE UPSTREAM SECRET: scripts/templates/nginx-sas-mtls.conf for one site, whatever
# the host name (the standalone entry of `make setup`), for the SAS_MTLS_* settings, written to OUT (mode 600: it
# holds the secret).
render_sas_mtls_server() {
	local out=$1 site=$2 upstream=$3 secret=$4
	sas_mtls_check_site "$site" "$secret" || return 1
	render_sas_mtls_conf "$out" "$upstream" "${SAS_MTLS_SERVER_NAME:-_}" "$site" "" $'\t'"$site \"$secret\";"
}

# render_sas_mtls_sites OUT UPSTREAM MAP: the same for every site of the bench (`make production`): MAP holds
# "NAME SITE SECRET" lines (each host name served, its site and that site's proxy secret); server_name is every
# NAME and a request for any other name is answered 421 (never passed on).
render_sas_mtls_sites() {
	local out=$1 upstream=$2 name site secret names="" site_map="" secret_map="" sites=" "
	while read -r name site secret; do
		[ -n "$name" ] || continue
		[[ $name =~ ^[A-Za-z0-9.-]+$ ]] || { echo "SAS mTLS: invalid host name '$name'" >&2; return 1; }
		sas_mtls_check_site "$site" "$secret" || return 1
		names+="$name "
		site_map+=$'\t'"$name $site;"$'\n'
		if [[ $sites != *" $site "* ]]; then
			sites+="$site "
			secret_map+=$'\t'"$site \"$secret\";"$'\n'
		fi
	done <<<"$3"
	[ -n "$names" ] || { echo "SAS mTLS: no site to serve" >&2; return 1; }
	render_sas_mtls_conf "$out" "$upstream" "${names% }" '""' "${site_map%$'\n'}" "${secret_map%$'\n'}"
}

# sas_mtls_check_site SITE SECRET: both fit in nginx's configuration.
sas_mtls_check_site() {
	[[ $2 =~ ^[A-Za-z0-9_-]{32,}$ ]] || { echo "SAS mTLS: the proxy secret of '$1' must be 32+ characters of [A-Za-z0-9_-]" >&2; return 1; }
	[[ $1 =~ ^[A-Za-z0-9.-]+$ ]] || { echo "SAS mTLS: invalid site name '$1'" >&2; return 1; }
}

# render_sas_mtls_conf OUT UPSTREAM SERVER_NAME DEFAULT_SITE SITE_MAP SECRET_MAP: the template filled in.
render_sas_mtls_conf() {
	local out=$1 upstream=$2 file text crl=""
	for file in "${SAS_MTLS_CERT:-}" "${SAS_MTLS_KEY:-}" "${SAS_MTLS_CLIENT_CA:-}" ${SAS_MTLS_CRL:+"$SAS_MTLS_CRL"}; do
		[ -n "$file" ] && [ -f "$file" ] || { echo "SAS mTLS: missing file '${file}' (SAS_MTLS_CERT, SAS_MTLS_KEY, SAS_MTLS_CLIENT_CA, SAS_MTLS_CRL)" >&2; return 1; }
	done
	[[ $upstream =~ ^https?://[A-Za-z0-9.:-]+$ ]] || { echo "SAS mTLS: invalid upstream '$upstream'" >&2; return 1; }
	if [ -n "${SAS_MTLS_CRL:-}" ]; then crl="ssl_crl $(realpath "$SAS_MTLS_CRL");"; fi
	text=$(<"$SAS_MTLS_TEMPLATE")
	text=${text//@@LISTEN@@/${SAS_MTLS_LISTEN:-8443}}
	text=${text//@@SERVER_NAME@@/$3}
	text=${text//@@SERVER_CERT@@/$(realpath "$SAS_MTLS_CERT")}
	text=${text//@@SERVER_KEY@@/$(realpath "$SAS_MTLS_KEY")}
	text=${text//@@CLIENT_CA@@/$(realpath "$SAS_MTLS_CLIENT_CA")}
	text=${text//@@SSL_CRL@@/$crl}
	text=${text//@@UPSTREAM@@/$upstream}
	text=${text//@@DEFAULT_SITE@@/$4}
	text=${text//@@SITE_MAP@@/$5}
	text=${text//@@SECRET_MAP@@/$6}
	(umask 077 && printf '%s\n' "$text" >"$out") && chmod 600 "$out"
}

# write_nginx_main_conf PREFIX SERVER_CONF DAEMON(on|off): PREFIX/nginx.conf, an nginx of its own (pid, logs and
# temporary files under PREFIX) serving SERVER_CONF; run it with `nginx -p PREFIX -c PREFIX/nginx.conf`.
write_nginx_main_conf() {
	local prefix=$1 server_conf=$2 daemon=${3:-on}
	mkdir -p "$prefix/tmp"
	cat >"$prefix/nginx.conf" <<-EOF
		# Written by scripts/mtls.sh
		daemon $daemon;
		worker_processes 1;
		pid $prefix/nginx.pid;
		error_log $prefix/error.log warn;
		events { worker_connections 512; }
		http {
		    access_log $prefix/access.log;
		    server_tokens off;
		    client_body_temp_path $prefix/tmp/body;
		    proxy_temp_path $prefix/tmp/proxy;
		    fastcgi_temp_path $prefix/tmp/fastcgi;
		    uwsgi_temp_path $prefix/tmp/uwsgi;
		    scgi_temp_path $prefix/tmp/scgi;
		    include $server_conf;
		}
	EOF
}

# ensure_sas_mtls SITE: when SAS_MTLS_CERT is set, the proxy secret in SITE's config, nginx's config under
# config/nginx/, checked, and nginx started (or reloaded) without systemd. Uses lib.sh's ROOT, WEB_PORT, bench.
ensure_sas_mtls() {
	local site=$1 prefix=$ROOT/config/nginx secret
	[ -n "${SAS_MTLS_CERT:-}" ] || return 0
	command -v nginx >/dev/null || die "nginx is not installed (scripts/lib.sh APT_PACKAGES)"
	secret=$("$ENV_DIR/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("cpts_proxy_secret") or "")' \
		"$ROOT/sites/$site/site_config.json")
	if [ -z "$secret" ]; then
		secret=$("$ENV_DIR/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
		bench --site "$site" set-config cpts_proxy_secret "$secret" >/dev/null
	fi
	mkdir -p "$prefix"
	render_sas_mtls_server "$prefix/sas-mtls.conf" "$site" "${SAS_MTLS_UPSTREAM:-http://127.0.0.1:$WEB_PORT}" "$secret" ||
		die "SAS mTLS: could not write the nginx configuration"
	write_nginx_main_conf "$prefix" "$prefix/sas-mtls.conf" on
	nginx -t -q -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" ||
		die "SAS mTLS: nginx refuses its configuration (see $prefix/error.log)"
	if [ -f "$prefix/nginx.pid" ] && kill -0 "$(cat "$prefix/nginx.pid")" 2>/dev/null; then
		nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" -s reload
	else
		log "Starting nginx (SAS mTLS entry on ${SAS_MTLS_LISTEN:-8443})"
		# 9>&-: nginx must not inherit the setup lock
		nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" 9>&-
	fi
}
