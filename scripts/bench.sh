#!/usr/bin/env bash
# make bench: wrk against latchkey's hot path (GET /v1/auth/whoami with a
# valid token) and against nginx answering a fixed JSON body of similar size,
# on loopback, in the same run, with the same worker count. Prints req/s,
# p50, p99 and the latchkey/nginx ratio. Timings belong here and in
# docs/performance.md, never in pass/fail tests.
#
# Env: THREADS (server workers, default 2), CONNS (default "1 64"),
#      DURATION (seconds per run, default 10), WRK_THREADS (default 2).
set -euo pipefail
BIN=${1:-build/latchkey}
BIN=$(readlink -f "$BIN")
THREADS=${THREADS:-2}
CONNS=${CONNS:-"1 64"}
DURATION=${DURATION:-10}
WRK_THREADS=${WRK_THREADS:-2}

work=$(mktemp -d)
lk_pid=""; ng_pid=""
cleanup() {
  [ -n "$lk_pid" ] && kill "$lk_pid" 2>/dev/null && wait "$lk_pid" 2>/dev/null || true
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- latchkey ----------------------------------------------------------------
# Rate limits off: the bench measures the verify path, not the limiter's refusal.
"$BIN" server --dev --data-dir "$work/data" --listen 127.0.0.1:0 --threads "$THREADS" \
  --rate-limit-token 0 --rate-limit-ip 0 >"$work/lk.out" 2>"$work/lk.err" &
lk_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/lk.out" 2>/dev/null && break; sleep 0.1; done
lk_url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$work/lk.out" | head -1)
token=$(sed -n 's/^Root token: //p' "$work/lk.out")
[ -n "$lk_url" ] && [ -n "$token" ] || { echo "bench: latchkey did not start"; cat "$work/lk.err"; exit 1; }
body=$(curl -sf -H "Authorization: Bearer $token" "$lk_url/v1/auth/whoami")

# --- nginx with a fixed reply of the same size -------------------------------
ng_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes $THREADS;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $work/nginx/access.log combined buffer=64k flush=1s;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$ng_port reuseport;
    location / { default_type application/json; return 200 '$body'; }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
ng_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$ng_port/" >/dev/null 2>&1 && break; sleep 0.1; done

# --- runs --------------------------------------------------------------------
# wrk prints latency percentiles with units; convert to microseconds.
to_us() { awk -v v="$1" 'BEGIN { n=v+0; u=v; sub(/^[0-9.]+/, "", u);
  if (u=="us") print n; else if (u=="ms") print n*1000; else if (u=="s") print n*1000000; else print n }'; }

run() { # name url conns -> "rps p50_us p99_us"
  local out
  local t=$WRK_THREADS; [ "$3" -lt "$t" ] && t=$3
  out=$(wrk -t"$t" -c"$3" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "$2")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: $1 answered non-2xx:" >&2; echo "$out" >&2; exit 1; fi
  echo "$rps $(to_us "$p50") $(to_us "$p99")"
}

printf "latchkey %s, %s server threads, wrk -t%s, %ss per run, loopback\n" \
  "$("$BIN" version | awk '{print $2}')" "$THREADS" "$WRK_THREADS" "$DURATION"
printf "%-6s %-28s %12s %10s %10s\n" conns target "req/s" "p50 us" "p99 us"
for c in $CONNS; do
  read -r nr n50 n99 < <(run nginx "http://127.0.0.1:$ng_port/v1/auth/whoami" "$c")
  read -r lr l50 l99 < <(run latchkey "$lk_url/v1/auth/whoami" "$c")
  printf "%-6s %-28s %12.0f %10.0f %10.0f\n" "$c" "nginx fixed reply" "$nr" "$n50" "$n99"
  printf "%-6s %-28s %12.0f %10.0f %10.0f\n" "$c" "latchkey whoami (verify)" "$lr" "$l50" "$l99"
  awk -v l="$lr" -v n="$nr" -v c="$c" 'BEGIN { printf "%-6s ratio latchkey/nginx: %.2fx\n", c, l/n }'
done
