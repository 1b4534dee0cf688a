#!/usr/bin/env bash
# Procfile entry for Redis: run the server in the foreground, or, when `make setup` already started it
# (it needs Redis to create sites), stay up while that server answers so honcho keeps the other processes.
set -u
name=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=$(awk '$1 == "port" {print $2}' "$root/config/redis_$name.conf")
if redis-cli -p "$port" ping >/dev/null 2>&1; then
	echo "redis_$name already running on port $port"
	while redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 5; done
	echo "redis_$name on port $port stopped" >&2
	exit 1
fi
exec redis-server "$root/config/redis_$name.conf"
