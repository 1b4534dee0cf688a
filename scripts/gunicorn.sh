#!/usr/bin/env bash
# The supervised web server (scripts/templates/supervisord.conf): `scripts/gunicorn.sh PIDFILE gunicorn …`.
# A gunicorn master killed outright (SIGKILL, OOM killer) leaves its workers running, still holding the port
# until they notice, up to half the timeout later, and the master supervisor restarts could not listen. Supervisor
# makes every program the leader of its own process group, so those orphans are the group of the dead master
# named in PIDFILE: they are ended first, then gunicorn is started (its pid written to PIDFILE).
set -u
pidfile=$1
shift
if [ -s "$pidfile" ]; then
	old=$(cat "$pidfile")
	if [[ $old =~ ^[0-9]+$ ]] && ! kill -0 "$old" 2>/dev/null && pgrep -g "$old" -f gunicorn >/dev/null; then
		echo "ending the workers left by gunicorn master $old" >&2
		kill -TERM -- "-$old" 2>/dev/null
		for _ in $(seq 1 50); do
			pgrep -g "$old" >/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$old" 2>/dev/null
	fi
fi
exec "$@" --pid "$pidfile"
