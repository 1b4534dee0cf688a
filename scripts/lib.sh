#!/usr/bin/env bash
# Shared, idempotent steps of `make setup`, `make run` and `make test`.
#
# The repository root is a Frappe bench. These steps install what is missing (apt, pip, npm), start MariaDB
# and Redis when they are not running (no systemd is assumed), build the bench (env/, apps/frappe, assets)
# and create or refresh sites. Each expensive step records what it was done for under .state/ and is skipped
# when nothing changed, so a second run takes seconds.
#
# Settings (environment variables):
#   FRAPPE_REPO      where Frappe is cloned from (default https://github.com/frappe/frappe)
#   FRAPPE_BRANCH    Frappe branch (default version-15)
#   ADMIN_PASSWORD   Administrator password of the demo site (default admin)
#   PYTHON           Python used to create the virtualenvs (default: python3.11 if present, else python3)
set -euo pipefail
trap 'printf "\033[1;31mERROR: %s failed (%s, line %s)\033[0m\n" "$BASH_COMMAND" "${BASH_SOURCE[0]}" "$LINENO" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FRAPPE_REPO=${FRAPPE_REPO:-https://github.com/frappe/frappe}
FRAPPE_BRANCH=${FRAPPE_BRANCH:-version-15}
BENCH_VERSION=5.31.1
NODE_MIN_MAJOR=18
DB_HOST=127.0.0.1
DB_PORT=3306
# One database administrator per checkout (two checkouts on one machine, a working copy and a CI clone, would
# otherwise change each other's password); its name is kept in .state/db_admin_user for the README's commands.
DB_ADMIN_USER=cpts_admin_$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)
REDIS_CACHE_PORT=13000
REDIS_QUEUE_PORT=11000
WEB_PORT=${WEB_PORT:-8000}
SOCKETIO_PORT=9000
STATE=$ROOT/.state
TOOLS=$ROOT/.bench-tools
ENV_DIR=$ROOT/env
export PATH="$TOOLS/bin:$ENV_DIR/bin:$PATH"
# bench and Frappe's build honour CI: build assets locally instead of downloading them.
export CI=${CI:-1}

if [ -z "${PYTHON:-}" ]; then
	if command -v python3.11 >/dev/null; then PYTHON=python3.11; else PYTHON=python3; fi
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

log() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

mkdir -p "$STATE"

# One setup at a time per checkout (two terminals, or `make run` while `make test` migrates).
hold_setup_lock() { exec 9>"$STATE/setup.lock"; flock 9; }
release_setup_lock() { exec 9>&-; }

# stamp_ok NAME VALUE: true when step NAME was last completed for VALUE.
stamp_ok() { [ -f "$STATE/$1" ] && [ "$(cat "$STATE/$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" >"$STATE/$1"; }

# Content hash of the app's sources (what a migrate or an asset build depends on).
app_hash() {
	(cd "$ROOT/apps/cpts_snp" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path '*/node_modules/*' \
		! -path '*.egg-info/*' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-40)
}
frappe_head() { git -C "$ROOT/apps/frappe" rev-parse HEAD; }

bench() { (cd "$ROOT" && command bench "$@" </dev/null); }

# The SAS platform's mTLS entry (nginx): render and start functions, ensure_sas_mtls
source "$ROOT/scripts/mtls.sh"

# ---------------------------------------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------------------------------------
APT_PACKAGES=(
	git curl ca-certificates build-essential pkg-config python3-dev python3-venv libffi-dev libssl-dev
	mariadb-server mariadb-client redis-server
	wkhtmltopdf fonts-dejavu-core
	chromium wrk
	nginx supervisor
	restic
)

ensure_system_packages() {
	local missing=() pkg
	for pkg in "${APT_PACKAGES[@]}"; do
		dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
	done
	local node_major=0
	if command -v node >/dev/null; then node_major=$(node -p 'process.versions.node.split(".")[0]'); fi
	if [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then missing+=(nodejs npm); fi
	if [ ${#missing[@]} -gt 0 ]; then
		log "Installing system packages: ${missing[*]}"
		$SUDO apt-get update -qq
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	if ! command -v yarn >/dev/null; then
		log "Installing yarn"
		$SUDO npm install -g --silent yarn@1.22.22
	fi
}

# ---------------------------------------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------------------------------------
mysql_admin() { $SUDO mariadb --protocol=socket -uroot "$@"; }

# MariaDB sizing (overridable): table caches for many sites on one server, the InnoDB buffer pool shared by them.
DB_TABLE_CACHE=${CPTS_DB_TABLE_CACHE:-10000}
DB_BUFFER_POOL=${CPTS_DB_BUFFER_POOL:-1G}

ensure_mariadb() {
	local cnf=/etc/mysql/mariadb.conf.d/99-cpts-snp.cnf
	local want
	want=$(printf '%s\n' '# Written by cpts_snp scripts/lib.sh: what Frappe needs.' '[mysqld]' \
		'character-set-server = utf8mb4' 'collation-server = utf8mb4_unicode_ci' \
		"bind-address = $DB_HOST" "port = $DB_PORT" 'skip-innodb-read-only-compressed' \
		'# Many CPTS on one server: each site has ~270 tables (30 sites ~8,100, beyond the defaults of 400 and 2,000).' \
		"table_definition_cache = $DB_TABLE_CACHE" "table_open_cache = $DB_TABLE_CACHE" \
		"innodb_open_files = $DB_TABLE_CACHE" "innodb_buffer_pool_size = $DB_BUFFER_POOL" '' \
		'[mysql]' 'default-character-set = utf8mb4')
	if [ ! -f "$cnf" ] || [ "$(cat "$cnf")" != "$want" ]; then
		printf '%s\n' "$want" | $SUDO tee "$cnf" >/dev/null
	fi
	if ! mysql_admin -e 'SELECT 1' >/dev/null 2>&1; then
		log "Starting MariaDB"
		$SUDO mkdir -p /run/mysqld
		$SUDO chown mysql:mysql /run/mysqld
		if [ ! -d /var/lib/mysql/mysql ]; then
			$SUDO mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
		fi
		# 9>&-: the server must not inherit the setup lock (it would hold it for as long as it runs)
		$SUDO sh -c 'nohup setsid mysqld_safe >/dev/null 2>&1 &' 9>&-
		local i
		for i in $(seq 1 60); do
			mysql_admin -e 'SELECT 1' >/dev/null 2>&1 && break
			sleep 1
		done
		mysql_admin -e 'SELECT 1' >/dev/null 2>&1 || die "MariaDB did not start (see /var/log/mysql or /var/lib/mysql/*.err)"
	fi
	# A running server started before the .cnf existed: apply the settings now too.
	mysql_admin -e "SET GLOBAL character_set_server = 'utf8mb4'; SET GLOBAL collation_server = 'utf8mb4_unicode_ci';
		SET GLOBAL table_definition_cache = $DB_TABLE_CACHE; SET GLOBAL table_open_cache = $DB_TABLE_CACHE;
		SET GLOBAL innodb_buffer_pool_size = $(numfmt --from=iec "$DB_BUFFER_POOL");"

	# A database administrator for bench (new-site, drop-site), with a generated password kept in .state/.
	local pwfile="$STATE/db_admin_password"
	if [ ! -s "$pwfile" ]; then
		"$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24), end="")' >"$pwfile"
		chmod 600 "$pwfile"
	fi
	printf '%s' "$DB_ADMIN_USER" >"$STATE/db_admin_user"
	local pw host sql=""
	pw=$(cat "$pwfile")
	for host in localhost 127.0.0.1; do
		sql+="CREATE USER IF NOT EXISTS '$DB_ADMIN_USER'@'$host' IDENTIFIED BY '$pw';"
		sql+="ALTER USER '$DB_ADMIN_USER'@'$host' IDENTIFIED BY '$pw';"
		sql+="GRANT ALL PRIVILEGES ON *.* TO '$DB_ADMIN_USER'@'$host' WITH GRANT OPTION;"
	done
	mysql_admin -e "$sql FLUSH PRIVILEGES;"
}
db_admin_password() { cat "$STATE/db_admin_password"; }

# ---------------------------------------------------------------------------------------------------------
# Redis (the Procfile's redis entries reuse a server that is already up, see scripts/redis.sh)
# ---------------------------------------------------------------------------------------------------------
write_redis_conf() { # NAME PORT
	mkdir -p "$ROOT/config" "$ROOT/config/pids"
	cat >"$ROOT/config/redis_$1.conf" <<-EOF
		# Written by scripts/lib.sh
		bind 127.0.0.1
		port $2
		dbfilename redis_$1.rdb
		dir $ROOT/config/pids
		pidfile $ROOT/config/pids/redis_$1.pid
		save ""
		appendonly no
		maxmemory 256mb
		maxmemory-policy allkeys-lru
	EOF
}

ensure_redis() {
	write_redis_conf cache "$REDIS_CACHE_PORT"
	write_redis_conf queue "$REDIS_QUEUE_PORT"
	local name port
	for name in cache queue; do
		if [ "$name" = cache ]; then port=$REDIS_CACHE_PORT; else port=$REDIS_QUEUE_PORT; fi
		if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
			log "Starting Redis ($name, port $port)"
			redis-server "$ROOT/config/redis_$name.conf" --daemonize yes >/dev/null 9>&-
			local i
			for i in $(seq 1 20); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.5; done
		fi
	done
}

# ---------------------------------------------------------------------------------------------------------
# The bench: frappe-bench CLI, env/, apps/frappe, node modules, assets, common_site_config.json
# ---------------------------------------------------------------------------------------------------------
ensure_bench_cli() {
	if [ ! -x "$TOOLS/bin/python" ]; then
		log "Creating the frappe-bench virtualenv (.bench-tools/)"
		"$PYTHON" -m venv "$TOOLS"
	fi
	if ! stamp_ok bench-cli "$BENCH_VERSION"; then
		log "Installing frappe-bench $BENCH_VERSION"
		"$TOOLS/bin/pip" install -q --disable-pip-version-check "frappe-bench==$BENCH_VERSION"
		stamp_set bench-cli "$BENCH_VERSION"
	fi
}

ensure_common_site_config() {
	mkdir -p "$ROOT/sites" "$ROOT/logs" "$ROOT/config/pids"
	"$PYTHON" - "$ROOT/sites/common_site_config.json" "$(id -un)" <<-EOF
		import json, os, sys
		path, user = sys.argv[1], sys.argv[2]
		conf = json.load(open(path)) if os.path.exists(path) else {}
		conf.update({
		    "frappe_user": user,
		    "db_host": "$DB_HOST",
		    "db_port": $DB_PORT,
		    "redis_cache": "redis://127.0.0.1:$REDIS_CACHE_PORT",
		    "redis_queue": "redis://127.0.0.1:$REDIS_QUEUE_PORT",
		    "redis_socketio": "redis://127.0.0.1:$REDIS_QUEUE_PORT",
		    "webserver_port": $WEB_PORT,
		    "socketio_port": $SOCKETIO_PORT,
		    "file_watcher_port": 6787,
		    "background_workers": 1,
		    "serve_default_site": True,
		    "live_reload": False,
		    "restart_supervisor_on_update": False,
		    "restart_systemd_on_update": False,
		    "shallow_clone": True,
		})
		json.dump(conf, open(path, "w"), indent=1, sort_keys=True)
	EOF
}

ensure_frappe_source() {
	if [ ! -d "$ROOT/apps/frappe/.git" ]; then
		log "Cloning Frappe ($FRAPPE_BRANCH) from $FRAPPE_REPO"
		rm -rf "$ROOT/apps/frappe"
		git clone -q --depth 1 --branch "$FRAPPE_BRANCH" "$FRAPPE_REPO" "$ROOT/apps/frappe" ||
			die "could not clone Frappe from $FRAPPE_REPO (set FRAPPE_REPO to a reachable mirror)"
	fi
}

ensure_python_env() {
	if [ ! -x "$ENV_DIR/bin/python" ]; then
		log "Creating the bench virtualenv (env/)"
		"$PYTHON" -m venv "$ENV_DIR"
	fi
	local want
	want="$(frappe_head) $(sha1sum "$ROOT/apps/cpts_snp/pyproject.toml" | cut -c1-40)"
	if ! stamp_ok python-env "$want"; then
		log "Installing Frappe and cpts_snp into env/ (uv)"
		# One resolution for Frappe and the app, so the app's libraries respect Frappe's pins.
		# setuptools<81: google-api-python-client 2.2 (a Frappe dependency) still imports pkg_resources.
		uv pip install -q --python "$ENV_DIR/bin/python" -e "$ROOT/apps/frappe" -e "$ROOT/apps/cpts_snp[test]" \
			'setuptools<81' pip
		stamp_set python-env "$want"
	fi
}

ensure_node_modules() {
	local want
	want=$(sha1sum "$ROOT/apps/frappe/yarn.lock" "$ROOT/apps/frappe/package.json" | sha1sum | cut -c1-40)
	if [ ! -d "$ROOT/apps/frappe/node_modules" ] || ! stamp_ok node-modules "$want"; then
		log "Installing Frappe's node modules (yarn)"
		(cd "$ROOT/apps/frappe" && yarn install --frozen-lockfile --non-interactive --silent --network-timeout 600000)
		stamp_set node-modules "$want"
	fi
}

ensure_assets() {
	local want
	want="$(frappe_head) $(app_hash_public)"
	if [ ! -f "$ROOT/sites/assets/assets.json" ] || ! stamp_ok assets "$want"; then
		log "Building assets (bench build)"
		bench build --force >"$ROOT/logs/build.log" 2>&1 || { tail -n 40 "$ROOT/logs/build.log"; die "bench build failed"; }
		stamp_set assets "$want"
	fi
}
app_hash_public() {
	local dir="$ROOT/apps/cpts_snp/cpts_snp/public"
	if [ -d "$dir" ]; then
		(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 -r sha1sum | sha1sum | cut -c1-40)
	else
		echo none
	fi
}

# The app's French translations (locale/*.po) are compiled to .mo files under sites/assets/locale.
ensure_translations() {
	local want
	want=$(find "$ROOT/apps/cpts_snp/cpts_snp/locale" -name '*.po' -print0 | sort -z | xargs -0 -r cat | sha1sum | cut -c1-40)
	if ! stamp_ok translations "$want"; then
		log "Compiling the app's translations"
		bench compile-po-to-mo --app cpts_snp --force >/dev/null
		stamp_set translations "$want"
	fi
}

# axe-core, the accessibility rules (WCAG 2.1 A/AA) tests/browser/ runs in Chromium: the npm package, pinned, in
# .bench-tools/axe-core (no package.json of the app); installed once, offline afterwards. Only `make test` needs it.
AXE_CORE_VERSION=4.10.3
export AXE_CORE_JS=$TOOLS/axe-core/node_modules/axe-core/axe.min.js
ensure_axe_core() {
	if [ -f "$AXE_CORE_JS" ] && stamp_ok axe-core "$AXE_CORE_VERSION"; then return; fi
	log "Installing axe-core $AXE_CORE_VERSION (npm)"
	mkdir -p "$TOOLS/axe-core"
	# without the registry the rest of the suite still runs; the accessibility tests then say what is missing
	if npm install --prefix "$TOOLS/axe-core" --no-save --no-audit --no-fund --no-package-lock --silent \
		"axe-core@$AXE_CORE_VERSION" && [ -f "$AXE_CORE_JS" ]; then
		stamp_set axe-core "$AXE_CORE_VERSION"
	else
		printf '\033[1;33mWARNING: axe-core %s could not be installed (npm)\033[0m\n' "$AXE_CORE_VERSION" >&2
	fi
}

ensure_bench() {
	ensure_system_packages
	ensure_mariadb
	ensure_redis
	ensure_bench_cli
	ensure_common_site_config
	ensure_frappe_source
	ensure_python_env
	ensure_node_modules
	ensure_assets
	ensure_translations
}

# ---------------------------------------------------------------------------------------------------------
# Sites
# ---------------------------------------------------------------------------------------------------------
# The database of a site is named after the site and this checkout, so two checkouts on one machine (a
# developer's and CI's) never overwrite each other's sites.
site_db_name() { printf '_%s' "$(printf '%s' "$ROOT:$1" | sha1sum | cut -c1-15)"; }

# True when the site's own database account can open its database (a site folder can outlive its database).
site_db_ok() {
	"$ENV_DIR/bin/python" - "$ROOT/sites/$1/site_config.json" "$DB_HOST" "$DB_PORT" <<-'EOF' >/dev/null 2>&1
		import json, sys
		import pymysql
		conf = json.load(open(sys.argv[1]))
		pymysql.connect(host=sys.argv[2], port=int(sys.argv[3]), user=conf.get("db_user") or conf["db_name"],
		    password=conf["db_password"], database=conf["db_name"]).close()
	EOF
}

# ensure_site SITE ADMIN_PASSWORD: create the site with cpts_snp when absent (or when its database is gone),
# migrate it when Frappe or the app changed.
ensure_site() {
	local site=$1 admin_password=$2
	if [ -f "$ROOT/sites/$site/site_config.json" ] && ! site_db_ok "$site"; then
		log "The database of $site is not reachable: recreating the site"
		rm -rf "${ROOT:?}/sites/$site"
	fi
	if [ ! -f "$ROOT/sites/$site/site_config.json" ]; then
		log "Creating site $site"
		rm -f "$STATE/site-$site"
		bench new-site "$site" --force --no-mariadb-socket --db-name "$(site_db_name "$site")" \
			--db-root-username "$DB_ADMIN_USER" --db-root-password "$(db_admin_password)" \
			--admin-password "$admin_password" --install-app cpts_snp >"$ROOT/logs/new-site-$site.log" 2>&1 ||
			{ tail -n 40 "$ROOT/logs/new-site-$site.log"; rm -rf "${ROOT:?}/sites/$site"; die "could not create site $site"; }
	fi
	local want
	want="$(frappe_head) $(app_hash)"
	if ! stamp_ok "site-$site" "$want"; then
		log "Migrating site $site"
		bench --site "$site" migrate >"$ROOT/logs/migrate-$site.log" 2>&1 ||
			{ tail -n 40 "$ROOT/logs/migrate-$site.log"; die "migrate of $site failed"; }
		bench --site "$site" execute cpts_snp.setup.install.complete_setup_wizard >/dev/null
		stamp_set "site-$site" "$want"
	fi
}
