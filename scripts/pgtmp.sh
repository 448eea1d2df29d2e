#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql-15):
#
#   scripts/pgtmp.sh start DIR   initdb in DIR/data, start it listening on a
#                                Unix socket in DIR only (no TCP), and print
#                                the DSN latchkey takes (postgres://...)
#   scripts/pgtmp.sh stop DIR    stop it (fast shutdown) and remove DIR
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# postgres user (made by Debian's package; else nobody) and runs as it.
# Authentication is trust on the socket, which only DIR's owner and root
# can reach. Tuned for tests, not for data: fsync stays on (the crash tests
# count on it), but the cluster is small and quick to start.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir=/usr/lib/postgresql/15/bin
[ -x "$bindir/pg_ctl" ] || bindir=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bindir/pg_ctl" ] || { echo "pgtmp: no PostgreSQL server binaries (install postgresql-15)" >&2; exit 1; }

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id "$owner" >/dev/null 2>&1 || owner=nobody
  as_owner=(runuser -u "$owner" --)
fi

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ${#as_owner[@]} -eq 0 ] || chown "$owner" "$dir"
  chmod 0700 "$dir"
  "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U latchkey --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200 -c shared_buffers=32MB" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  "${as_owner[@]}" "$bindir/createdb" -h "$dir" -U latchkey latchkey
  echo "postgres:///latchkey?host=$dir&user=latchkey"
  ;;
stop)
  [ -d "$dir/data" ] && "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
