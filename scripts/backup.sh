#!/usr/bin/env bash
# `make backup` / `make restore`: daily database + files backups of every site of the bench, rotated, with an
# encrypted off-site copy through restic (Debian package), and the restore of a site from that copy.
#
#   scripts/backup.sh                    back up every site (BACKUP_SITES), rotate, copy off-site, prune, check weekly
#   scripts/backup.sh restore SITE [SNAPSHOT|SET_DIR] [--to NEW_SITE] [--skip-migrate]
#                                        restore SITE from its latest off-site snapshot (or the one given, or a
#                                        local backup set); --to NEW_SITE restores into a new site instead
#   scripts/backup.sh snapshots [SITE]   the off-site snapshots (restic snapshots)
#   scripts/backup.sh check              restic check of the off-site repository
#   scripts/backup.sh timer              the supervised daily scheduler of `make production` (sleeps until BACKUP_TIME)
#
# Settings (environment variables, or KEY=VALUE lines in BACKUP_ENV_FILE; the environment wins):
#   BACKUP_ENV_FILE       settings file (default PROD_CONFIG_DIR/backup.env, config/backup.env; chmod 600: it may
#                         hold the repository's keys)
#   BACKUP_SITES          sites to back up (default: every site of the bench)
#   BACKUP_DIR            local backup sets, BACKUP_DIR/SITE/YYYYmmdd_HHMMSS/ (default backups/, mode 700)
#   BACKUP_KEEP_DAILY     days kept, locally and off-site (default 7)
#   BACKUP_KEEP_WEEKLY    weeks kept off-site (default 4)     BACKUP_KEEP_MONTHLY  months kept off-site (default 12)
#   BACKUP_TIME           daily time of the scheduled backup, HH:MM local time (default 02:30)
#   BACKUP_CHECK_DAYS     days between two `restic check` (default 7)
#   RESTIC_REPOSITORY     the off-site repository (any restic backend: sftp:…, s3:…, rest:…, a mounted path);
#                         without it the backups stay on this machine (a warning says so)
#   RESTIC_PASSWORD_FILE  the repository's password (or RESTIC_PASSWORD / RESTIC_PASSWORD_COMMAND); keep a copy
#                         away from this machine: without it the off-site copy cannot be read
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, … whatever the restic backend needs (restic's own variables)
declare -F ensure_bench >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACKUP_TEMPLATES=$ROOT/scripts/templates
BACKUP_SET_RE='^[0-9]{8}_[0-9]{6}$'

# load_backup_env: KEY=VALUE lines of BACKUP_ENV_FILE exported, except the variables the environment sets already.
load_backup_env() {
	local file=${BACKUP_ENV_FILE:-${PROD_CONFIG_DIR:-$ROOT/config}/backup.env} line name value
	[ -f "$file" ] || return 0
	if [ -n "$(find "$file" -perm /077 2>/dev/null)" ]; then
		log "WARNING: $file may hold the repository's keys: make it readable by its owner only (chmod 600)"
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
		name=${BASH_REMATCH[2]}
		value=${BASH_REMATCH[3]}
		if [[ $value =~ ^\"(.*)\"$ ]] || [[ $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
		[ -n "${!name+set}" ] || export "$name=$value"
	done <"$file"
}

# backup_settings: every setting with its default, checked.
backup_settings() {
	load_backup_env
	BACKUP_DIR=${BACKUP_DIR:-$ROOT/backups}
	BACKUP_KEEP_DAILY=${BACKUP_KEEP_DAILY:-7}
	BACKUP_KEEP_WEEKLY=${BACKUP_KEEP_WEEKLY:-4}
	BACKUP_KEEP_MONTHLY=${BACKUP_KEEP_MONTHLY:-12}
	BACKUP_TIME=${BACKUP_TIME:-02:30}
	BACKUP_CHECK_DAYS=${BACKUP_CHECK_DAYS:-7}
	RESTIC_REPOSITORY=${RESTIC_REPOSITORY:-}
	local name
	for name in BACKUP_KEEP_DAILY BACKUP_KEEP_WEEKLY BACKUP_KEEP_MONTHLY BACKUP_CHECK_DAYS; do
		[[ ${!name} =~ ^[0-9]+$ ]] || die "invalid $name '${!name}' (a number)"
	done
	[ "$BACKUP_KEEP_DAILY" -ge 1 ] || die "BACKUP_KEEP_DAILY must keep at least one day"
	[[ $BACKUP_TIME =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || die "invalid BACKUP_TIME '$BACKUP_TIME' (HH:MM)"
	if [ -z "${BACKUP_SITES:-}" ]; then
		BACKUP_SITES=$(cd "$ROOT/sites" && for s in */site_config.json; do [ -f "$s" ] && dirname "$s"; done | xargs)
	fi
	for name in $BACKUP_SITES; do
		[[ $name =~ ^[A-Za-z0-9.-]+$ ]] && [ -f "$ROOT/sites/$name/site_config.json" ] || die "no site '$name' in this bench"
	done
	if [ -n "$RESTIC_REPOSITORY" ]; then
		export RESTIC_REPOSITORY
		[ -n "${RESTIC_PASSWORD_FILE:-}${RESTIC_PASSWORD:-}${RESTIC_PASSWORD_COMMAND:-}" ] ||
			die "RESTIC_REPOSITORY is set but not its password: set RESTIC_PASSWORD_FILE (keep a copy off this machine)"
		if [ -n "${RESTIC_PASSWORD_FILE:-}" ]; then
			[ -r "$RESTIC_PASSWORD_FILE" ] || die "RESTIC_PASSWORD_FILE '$RESTIC_PASSWORD_FILE' is not readable"
			export RESTIC_PASSWORD_FILE
		fi
		command -v restic >/dev/null || die "restic is not installed (scripts/lib.sh APT_PACKAGES: make setup)"
		export RESTIC_CACHE_DIR=${RESTIC_CACHE_DIR:-$BACKUP_DIR/.restic-cache}
	fi
	mkdir -p "$BACKUP_DIR"
	chmod 700 "$BACKUP_DIR" # patients' data
}

restic_quiet() { restic --quiet "$@"; }

# ensure_restic_repository: the repository initialised when it does not exist yet.
ensure_restic_repository() {
	if ! restic_quiet cat config >/dev/null 2>&1; then
		log "Initialising the restic repository $RESTIC_REPOSITORY"
		restic_quiet init >/dev/null || die "restic could not open nor initialise $RESTIC_REPOSITORY"
	fi
}

# backup_site SITE: a new local set BACKUP_DIR/SITE/STAMP (database, public and private files, site config), written
# under a temporary name and renamed once complete; prints its path.
backup_site() {
	local site=$1 stamp dir partial
	stamp=$(date +%Y%m%d_%H%M%S)
	dir=$BACKUP_DIR/$site/$stamp
	partial=$BACKUP_DIR/$site/.partial-$stamp
	mkdir -p "$partial"
	if ! bench --site "$site" backup --with-files --backup-path "$partial" >"$partial.log" 2>&1; then
		cat "$partial.log" >&2
		rm -rf "$partial" "$partial.log"
		die "bench backup of $site failed"
	fi
	rm -f "$partial.log"
	compgen -G "$partial/*-database.sql.gz" >/dev/null || { rm -rf "$partial"; die "bench backup of $site wrote no database dump"; }
	mv "$partial" "$dir"
	printf '%s\n' "$dir"
}

# rotate_local_sets SITE: the newest set of each of the BACKUP_KEEP_DAILY most recent days kept, the others removed
# (the same rule as restic's --keep-daily); incomplete sets left by a crash (an hour old) are removed too.
rotate_local_sets() {
	local site_dir=$BACKUP_DIR/$1 set name day days=0 last_day=""
	[ -d "$site_dir" ] || return 0
	find "$site_dir" -mindepth 1 -maxdepth 1 -name '.partial-*' -mmin +60 -exec rm -rf {} +
	# the states saved before a restore are kept as many days, then removed
	find "$site_dir" -mindepth 1 -maxdepth 1 -name '*-pre-restore' -mtime "+$((BACKUP_KEEP_DAILY - 1))" -exec rm -rf {} +
	while IFS= read -r name; do
		[[ $name =~ $BACKUP_SET_RE ]] || continue
		set=$site_dir/$name
		day=${name:0:8}
		if [ "$day" != "$last_day" ] && [ "$days" -lt "$BACKUP_KEEP_DAILY" ]; then
			days=$((days + 1))
			last_day=$day
		else
			rm -rf "$set"
		fi
	done < <(ls -1 "$site_dir" | sort -r)
}

# offsite_copy SITE SET_DIR: a restic snapshot of the set, tagged cpts-snp and site:SITE.
offsite_copy() {
	log "Off-site copy of $1 ($RESTIC_REPOSITORY)"
	restic_quiet backup --tag cpts-snp --tag "site:$1" "$2" >/dev/null || die "restic backup of $1 failed"
}

# offsite_forget: the same policy in the repository, per site (group by host and tags), then prune.
offsite_forget() {
	restic_quiet forget --tag cpts-snp --group-by host,tags --keep-daily "$BACKUP_KEEP_DAILY" \
		--keep-weekly "$BACKUP_KEEP_WEEKLY" --keep-monthly "$BACKUP_KEEP_MONTHLY" --prune >/dev/null ||
		die "restic forget/prune failed"
}

# offsite_check [force]: restic check when the last one is older than BACKUP_CHECK_DAYS (or when forced).
offsite_check() {
	local stamp=$BACKUP_DIR/.restic-checked
	if [ "${1:-}" != force ] && [ "$BACKUP_CHECK_DAYS" -gt 0 ] && [ -f "$stamp" ] &&
		[ -z "$(find "$stamp" -mtime +$((BACKUP_CHECK_DAYS - 1)) 2>/dev/null)" ]; then
		return 0
	fi
	log "Checking the off-site repository (restic check)"
	local out
	out=$(restic check 2>&1) || { printf '%s\n' "$out" >&2; die "restic check found errors in $RESTIC_REPOSITORY"; }
	printf '%s\n' "$out" | tail -n 1
	touch "$stamp"
}

# backup_all: every site backed up, rotated, copied off-site; then the repository pruned and checked weekly.
backup_all() {
	local site dir started
	started=$(date +%s)
	exec 8>"$BACKUP_DIR/.lock"
	flock 8
	if [ -n "$RESTIC_REPOSITORY" ]; then ensure_restic_repository; fi
	for site in $BACKUP_SITES; do
		log "Backing up $site (database and files)"
		dir=$(backup_site "$site")
		[ -z "$RESTIC_REPOSITORY" ] || offsite_copy "$site" "$dir"
		rotate_local_sets "$site"
	done
	if [ -n "$RESTIC_REPOSITORY" ]; then
		offsite_forget
		offsite_check
	else
		log "WARNING: RESTIC_REPOSITORY is not set: the backups stay on this machine ($BACKUP_DIR)"
	fi
	exec 8>&-
	log "Backups done in $(($(date +%s) - started)) s ($BACKUP_DIR)"
}

# restic_snapshot_id SITE [SNAPSHOT]: the snapshot given, or the latest of SITE; its full id on stdout.
restic_snapshot_id() {
	local want=${2:-latest}
	restic --no-lock snapshots --json --tag "site:$1" "$want" 2>/dev/null |
		"$ENV_DIR/bin/python" -c 'import json, sys; snaps = json.load(sys.stdin) or []; print(snaps[-1]["id"] if snaps else "")'
}

site_encryption_key() {
	"$ENV_DIR/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("encryption_key") or "")' \
		"$ROOT/sites/$1/site_config.json"
}

# production_supervisor_running: the supervisord of `make production` (PROD_CONFIG_DIR) runs.
production_supervisor_conf() { printf '%s' "${PROD_CONFIG_DIR:-$ROOT/config}/supervisor/supervisord.conf"; }
production_supervisor_running() {
	local pidfile
	pidfile=$(dirname "$(production_supervisor_conf)")/supervisord.pid
	[ -f "$pidfile" ] && $SUDO kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# restore_site SITE [SNAPSHOT|SET_DIR] [--to NEW_SITE] [--skip-migrate]
restore_site() {
	local site="" source="" target="" migrate=1 arg tmp set db public private conf key
	while [ $# -gt 0 ]; do
		arg=$1
		shift
		case $arg in
		--to) target=${1:-}; shift || true ;;
		--skip-migrate) migrate=0 ;;
		-*) die "unknown option $arg" ;;
		*) if [ -z "$site" ]; then site=$arg; elif [ -z "$source" ]; then source=$arg; else die "too many arguments"; fi ;;
		esac
	done
	[ -n "$site" ] || die "usage: scripts/backup.sh restore SITE [SNAPSHOT|SET_DIR] [--to NEW_SITE] [--skip-migrate]"
	[[ $site =~ ^[A-Za-z0-9.-]+$ ]] || die "invalid site '$site'"
	[ -z "$target" ] || [[ $target =~ ^[A-Za-z0-9.-]+$ ]] || die "invalid site '$target'"
	tmp=$(mktemp -d "$BACKUP_DIR/.restore-XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	if [ -n "$source" ] && [ -d "$source" ]; then
		set=$(realpath "$source")
	elif [ -n "$RESTIC_REPOSITORY" ]; then
		local id
		id=$(restic_snapshot_id "$site" "$source")
		[ -n "$id" ] || die "no off-site snapshot ${source:-of $site} in $RESTIC_REPOSITORY (scripts/backup.sh snapshots $site)"
		log "Fetching snapshot ${id:0:8} of $site from $RESTIC_REPOSITORY"
		restic_quiet restore "$id" --target "$tmp" >/dev/null || die "restic restore of ${id:0:8} failed"
		set=$tmp
	else
		[ -z "$source" ] || die "no backup set '$source' (and RESTIC_REPOSITORY is not set)"
		set=$(find "$BACKUP_DIR/$site" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
			-regex ".*/[0-9]{8}_[0-9]{6}" 2>/dev/null | sort | tail -n 1)
		[ -n "$set" ] || die "no backup of $site in $BACKUP_DIR"
	fi
	db=$(find "$set" -type f -name '*-database.sql.gz' | sort | tail -n 1)
	public=$(find "$set" -type f \( -name '*-files.tar' -o -name '*-files.tgz' \) ! -name '*-private-files.*' | sort | tail -n 1)
	private=$(find "$set" -type f \( -name '*-private-files.tar' -o -name '*-private-files.tgz' \) | sort | tail -n 1)
	conf=$(find "$set" -type f -name '*-site_config_backup.json' | sort | tail -n 1)
	[ -n "$db" ] || die "the backup holds no database dump"
	local root_login=(--db-root-username "$DB_ADMIN_USER" --db-root-password "$(db_admin_password)")

	if [ -n "$target" ]; then
		# a new site from the backup: the recovery checked before anything is switched
		[ ! -e "$ROOT/sites/$target" ] || die "site $target exists already: restore into a new name, or restore $target in place"
		log "Restoring $(basename "$db") into the new site $target"
		bench new-site "$target" --no-mariadb-socket --db-name "$(site_db_name "$target")" "${root_login[@]}" \
			--admin-password "$("$ENV_DIR/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))')" \
			--source-sql "$db" >"$ROOT/logs/restore-$target.log" 2>&1 ||
			{ tail -n 40 "$ROOT/logs/restore-$target.log"; die "could not create $target from the backup"; }
		local tar
		for tar in "$public" "$private"; do
			# as Frappe's restore does (frappe.installer.extract_files)
			[ -z "$tar" ] || tar -xf "$tar" --strip-components 2 -C "$ROOT/sites/$target"
		done
		site=$target
	else
		[ -f "$ROOT/sites/$site/site_config.json" ] || die "no site '$site' in this bench (restore it with --to $site)"
		log "Backing up $site as it is now, before the restore ($BACKUP_DIR/$site/*-pre-restore)"
		local before
		before=$(backup_site "$site")
		mv "$before" "$before-pre-restore"
		bench --site "$site" set-maintenance-mode on >/dev/null
		log "Restoring $(basename "$db") over $site"
		local files=()
		[ -z "$public" ] || files+=(--with-public-files "$public")
		[ -z "$private" ] || files+=(--with-private-files "$private")
		bench --site "$site" restore "$db" "${files[@]}" "${root_login[@]}" >"$ROOT/logs/restore-$site.log" 2>&1 ||
			{ tail -n 40 "$ROOT/logs/restore-$site.log"; die "restore of $site failed (site left in maintenance mode; the state before is in $before-pre-restore)"; }
	fi
	# the backup's encryption key: the passwords and secrets stored encrypted in the database stay readable (a new
	# site, or a site created anew on another machine, has a key of its own)
	if [ -n "$conf" ]; then
		key=$("$ENV_DIR/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("encryption_key") or "")' "$conf")
		if [ -n "$key" ] && [ "$key" != "$(site_encryption_key "$site")" ]; then
			log "Setting the backup's encryption_key on $site"
			bench --site "$site" set-config encryption_key "$key" >/dev/null
		fi
	fi
	if [ "$migrate" = 1 ]; then
		log "Migrating $site to the code of this bench"
		bench --site "$site" migrate >"$ROOT/logs/migrate-$site.log" 2>&1 ||
			{ tail -n 40 "$ROOT/logs/migrate-$site.log"; die "migrate of $site failed"; }
	fi
	if [ -z "$target" ]; then
		# a new site has neither maintenance mode nor cache entries (Redis keys are named after its database)
		bench --site "$site" set-maintenance-mode off >/dev/null
		bench --site "$site" clear-cache >/dev/null
	fi
	if [ -z "$target" ] && production_supervisor_running; then
		log "Restarting the web server and workers of the production stack"
		$SUDO supervisorctl -c "$(production_supervisor_conf)" restart cpts-web:cpts-frappe-web 'cpts-workers:*' >/dev/null
	fi
	log "Site $site restored from $(basename "$db")"
}

# backup_timer: the supervised daily scheduler (supervisord has no timers): sleeps until BACKUP_TIME, backs up,
# again every day. Each day runs in a subshell with the settings read again (new sites included); a failure is
# logged and the timer goes on (the next attempt is the next day's).
backup_timer() {
	while true; do
		(backup_timer_day) || {
			log "ERROR: the scheduled backup failed (see above); next attempt at the next BACKUP_TIME"
			sleep 300
		}
	done
}

backup_timer_day() {
	local now next
	backup_settings
	now=$(date +%s)
	next=$(date -d "today $BACKUP_TIME" +%s)
	[ "$next" -gt "$now" ] || next=$(date -d "tomorrow $BACKUP_TIME" +%s)
	log "Next backup at $(date -d "@$next" '+%Y-%m-%d %H:%M %Z') (sites: ${BACKUP_SITES:-none})"
	while [ "$(date +%s)" -lt "$next" ]; do
		now=$(date +%s)
		sleep $((next - now > 300 ? 300 : (next - now > 0 ? next - now : 1)))
	done
	backup_all
}

# render_backup_schedule: the daily backup in `make production`: a supervised program `cpts-backup-timer` in
# PROD_CONFIG_DIR/supervisor/conf.d/ (included by supervisord.conf) and, for a server with systemd, the
# cpts-snp-backup.{service,timer} units in PROD_CONFIG_DIR/systemd/. Needs production_settings (production.sh).
render_backup_schedule() {
	local values
	backup_settings
	mapfile -t values < <(production_values)
	values+=("BACKUP_TIME=$BACKUP_TIME" "BACKUP_ENV_FILE=${BACKUP_ENV_FILE:-$PROD_CONFIG_DIR/backup.env}")
	mkdir -p "$PROD_CONFIG_DIR/supervisor/conf.d" "$PROD_CONFIG_DIR/systemd"
	fill_template "$BACKUP_TEMPLATES/supervisor-backup.conf" "${values[@]}" >"$PROD_CONFIG_DIR/supervisor/conf.d/cpts-backup.conf"
	fill_template "$BACKUP_TEMPLATES/cpts-snp-backup.service" "${values[@]}" >"$PROD_CONFIG_DIR/systemd/cpts-snp-backup.service"
	fill_template "$BACKUP_TEMPLATES/cpts-snp-backup.timer" "${values[@]}" >"$PROD_CONFIG_DIR/systemd/cpts-snp-backup.timer"
	chown -R "$PROD_USER" "$BACKUP_DIR" 2>/dev/null || true
}

backup_main() {
	local command=${1:-backup}
	[ $# -eq 0 ] || shift
	backup_settings
	case $command in
	backup) backup_all ;;
	restore) restore_site "$@" ;;
	snapshots)
		[ -n "$RESTIC_REPOSITORY" ] || die "RESTIC_REPOSITORY is not set"
		if [ -n "${1:-}" ]; then restic snapshots --tag "site:$1"; else restic snapshots --tag cpts-snp; fi
		;;
	check)
		[ -n "$RESTIC_REPOSITORY" ] || die "RESTIC_REPOSITORY is not set"
		offsite_check force
		;;
	timer) backup_timer ;;
	*) die "unknown command '$command' (backup, restore, snapshots, check, timer)" ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	backup_main "$@"
fi
