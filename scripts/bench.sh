#!/usr/bin/env bash
# make bench: wrk against latchkey's hot path (GET /v1/auth/whoami with a
# valid token) and against nginx answering a fixed JSON body of similar size,
# on loopback, in the same run, with the same worker count. Prints req/s,
# p50, p99 and the latchkey/nginx ratio. Every latchkey request is audited:
# once as by default (reads recorded by the group-commit writer, answered at
# once) and once with --audit-sync-reads (every answer waits until its record
# is on disk). Then a secret read (GET /v1/orgs/{org}/secrets/{path} by an
# org admin, keyring unsealed: the org, the secret's row and its versions
# read from the store in one read transaction, AES-256-GCM open, the value
# and its metadata as JSON; reads audited as by default) on a server of its
# own, against nginx answering a fixed body of the same size as that answer. Then a GraphQL query (POST /graphql
# with {"query":"{ me { name } }"} and the root token, on the async server) against nginx answering a fixed body
# of the same size as its answer. Then audited token creations per second
# (each one commits with its record and is synced before the answer).
# Last, the same verify path and audited token creations on PostgreSQL
# (docs/scaling.md): a throwaway cluster (scripts/pgtmp.sh), one node, then
# two nodes on the one database driven at once.
# The whoami rounds also run a service account's opaque token and an
# identity token (JWT) of the same account on the async server, and print
# the JWT's figure as a ratio to the opaque token's.
# Timings belong here and in docs/performance.md, never in pass/fail tests.
#
# Env: THREADS (server workers, default 2), CONNS (default "1 64 256"),
#      DURATION (seconds per run, default 5), ROUNDS (alternating rounds of
#      nginx / latchkey / latchkey durable, then of nginx / latchkey secret
#      read, default 3; ratios are medians), SECRETS (0 skips the secret
#      read; default 1), GRAPHQL (0 skips the GraphQL query; default 1),
#      POSTGRES (0 skips the PostgreSQL rounds; default 1),
#      WRK_THREADS (default 2), QUIET_STEAL (a round whose every run had at
#      most this much CPU stolen by the hypervisor, in %, counts as quiet:
#      the medians of the quiet rounds are printed too; default 5),
#      AFFINITY (1: latchkey runs with --cpu-affinity, each worker on a CPU
#      of its own; 0: wherever the scheduler puts them; default 1. nginx's
#      workers stay unpinned: worker_cpu_affinity measured slower here, see
#      docs/performance.md),
#      AUDIT_CPU (the CPU for latchkey's audit writer, --audit-cpu: a number,
#      "off", or "auto", the default with AFFINITY=1: the CPU that took the
#      most interrupts of the busiest IRQ during a burst of synced writes to
#      the bench's directory, i.e. where the data disk's completions land).
set -euo pipefail
BIN=${1:-build/latchkey}
BIN=$(readlink -f "$BIN")
THREADS=${THREADS:-2}
CONNS=${CONNS:-"1 64 256"}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WRK_THREADS=${WRK_THREADS:-2}
QUIET_STEAL=${QUIET_STEAL:-5}
SECRETS=${SECRETS:-1}
GRAPHQL=${GRAPHQL:-1}
POSTGRES=${POSTGRES:-1}
AFFINITY=${AFFINITY:-1}
lk_affinity=()
[ "$AFFINITY" = 1 ] && lk_affinity=(--cpu-affinity)
AUDIT_CPU=${AUDIT_CPU:-$([ "$AFFINITY" = 1 ] && echo auto || echo off)}

work=$(mktemp -d)
chmod 755 "$work" # the PostgreSQL cluster runs as its own user (scripts/pgtmp.sh)
lk_pid=""; ng_pid=""; lks_pid=""; lkr_pid=""; pg_pids=""
cleanup() {
  for p in $pg_pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [ -d "$work/pg" ] && "$(dirname "$0")/pgtmp.sh" stop "$work/pg" || true
  [ -n "$lk_pid" ] && kill "$lk_pid" 2>/dev/null && wait "$lk_pid" 2>/dev/null || true
  [ -n "$lks_pid" ] && kill "$lks_pid" 2>/dev/null && wait "$lks_pid" 2>/dev/null || true
  [ -n "$lkr_pid" ] && kill "$lkr_pid" 2>/dev/null && wait "$lkr_pid" 2>/dev/null || true
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The CPU taking the most interrupts of the IRQ that moved most while synced
# writes went to dir: on a disk with one completion queue, where a sync's
# waiter is woken. Prints nothing if no IRQ moved much (tmpfs, say).
disk_irq_cpu() { # dir
  local before after
  before=$(cat /proc/interrupts 2>/dev/null || true)
  dd if=/dev/zero of="$1/irq-probe" bs=4k count=200 oflag=dsync 2>/dev/null || true
  after=$(cat /proc/interrupts 2>/dev/null || true)
  rm -f "$1/irq-probe"
  /usr/bin/python3 - "$before" "$after" <<'PY'
import sys
def counts(text):
    out = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        if name.strip().isdigit():
            out[name.strip()] = [int(f) for f in rest.split() if f.isdigit()]
    return out
a, b = counts(sys.argv[1]), counts(sys.argv[2])
best = max(((sum(b[i]) - sum(a.get(i, [])), i) for i in b if len(b[i]) == len(a.get(i, []))), default=(0, None))
if best[0] >= 100:
    d = [y - x for x, y in zip(a[best[1]], b[best[1]])]
    print(d.index(max(d)))
PY
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- latchkey ----------------------------------------------------------------
# Rate limits off: the bench measures the verify path, not the limiter's refusal.
start_lk() { # name extra-flags... ; sets lk_url_<name>, token_<name>, prints the pid
  local name=$1; shift
  "$BIN" server --dev --data-dir "$work/data-$name" --listen 127.0.0.1:0 --threads "$THREADS" \
    --rate-limit-token 0 --rate-limit-ip 0 "${lk_affinity[@]}" "$@" >"$work/lk-$name.out" 2>"$work/lk-$name.err" &
  echo $! >"$work/lk-$name.pid"
  for _ in $(seq 100); do grep -q "listening on" "$work/lk-$name.out" 2>/dev/null && break; sleep 0.1; done
}
audit_cpu_note=unpinned
case "$AUDIT_CPU" in
  off) ;;
  auto) c=$(disk_irq_cpu "$work"); [ -n "$c" ] && { lk_affinity+=(--audit-cpu "$c"); audit_cpu_note="CPU $c, where the disk's completions landed"; } ;;
  *) lk_affinity+=(--audit-cpu "$AUDIT_CPU"); audit_cpu_note="CPU $AUDIT_CPU" ;;
esac
start_lk async
start_lk sync --audit-sync-reads
lk_pid=$(cat "$work/lk-async.pid"); lks_pid=$(cat "$work/lk-sync.pid")
lk_url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$work/lk-async.out" | head -1)
token=$(sed -n 's/^Root token: //p' "$work/lk-async.out")
lks_url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$work/lk-sync.out" | head -1)
token_sync=$(sed -n 's/^Root token: //p' "$work/lk-sync.out")
[ -n "$lk_url" ] && [ -n "$token" ] && [ -n "$lks_url" ] && [ -n "$token_sync" ] ||
  { echo "bench: latchkey did not start"; cat "$work"/lk-*.err; exit 1; }
body=$(curl -sf -H "Authorization: Bearer $token" "$lk_url/v1/auth/whoami")

# An identity token (a JWT, ES256) of a service account on the async server,
# for the same whoami: verified offline against the signing keys, then the
# token cache under its jti, as an opaque token's cached verify is.
lk_async() { # method path token body
  curl -sS -f -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' -d "$4" "$lk_url$2"; }
json_field() { /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
sa=/v1/orgs/bench-jwt/teams/apps/service-accounts/svc
lk_async POST /v1/orgs "$token" '{"name":"bench-jwt"}' >/dev/null &&
  lk_async POST /v1/orgs/bench-jwt/teams "$token" '{"name":"apps"}' >/dev/null &&
  lk_async POST /v1/orgs/bench-jwt/teams/apps/service-accounts "$token" '{"name":"svc"}' >/dev/null ||
  { echo "bench: the identity token's setup: org, team or service account failed"; exit 1; }
token_sa=$(lk_async POST "$sa/tokens" "$token" '{"description":"bench","expires":"P1D"}' | json_field token) &&
  token_jwt=$(lk_async POST "$sa/identity-token" "$token_sa" '{"ttl":"24h"}' | json_field token) ||
  { echo "bench: the identity token's setup: the service account's tokens failed"; exit 1; }
# The whoami rounds run both, so the JWT's figure compares with an opaque
# token of the same principal.
curl -sf -H "Authorization: Bearer $token_jwt" "$lk_url/v1/auth/whoami" >/dev/null ||
  { echo "bench: the identity token is not accepted"; exit 1; }

# The secret read's server: its own data dir, so the other cases' servers
# and trails are as they were without it. Root creates an org and an admin
# in it with an API token; the admin writes one secret of three string
# fields (~200 bytes of JSON) that every request then reads. No '$' or "'"
# in it: its answer goes into nginx.conf as a quoted string.
secret_path=/v1/orgs/bench/secrets/app/db
secret_value='{"username":"orders_app","password":"Xk2pQ9vLm4Rt7sWz1bNc8dFg3hJy6uKe","url":"postgresql://orders_app@db-primary.internal.example.com:5432/orders?sslmode=verify-full&connect_timeout=5"}'
secret_body=""
if [ "$SECRETS" = 1 ]; then
  start_lk secret
  lkr_pid=$(cat "$work/lk-secret.pid")
  lkr_url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$work/lk-secret.out" | head -1)
  token_root_secret=$(sed -n 's/^Root token: //p' "$work/lk-secret.out")
  [ -n "$lkr_url" ] && [ -n "$token_root_secret" ] || { echo "bench: latchkey (secret read) did not start"; cat "$work"/lk-secret.err; exit 1; }
  lk_post() { # method url token body
    curl -sS -f -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' -d "$4" "$lkr_url$2"; }
  # Each step names itself when it fails (a bare failure under set -e would end the bench silently).
  lk_post POST /v1/orgs "$token_root_secret" '{"name":"bench"}' >/dev/null ||
    { echo "bench: the secret read's setup: creating the org failed"; exit 1; }
  lk_post POST /v1/orgs/bench/users "$token_root_secret" \
    '{"username":"bench-admin","email":"bench-admin@example.com","role":"admin","programmatic_only":true}' >/dev/null ||
    { echo "bench: the secret read's setup: creating the admin failed"; exit 1; }
  token_secret=$(lk_post POST /v1/orgs/bench/users/bench-admin/tokens "$token_root_secret" \
    '{"description":"bench","expires":"P1D"}' | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') ||
    { echo "bench: the secret read's setup: the admin's token failed"; exit 1; }
  lk_post PUT "$secret_path" "$token_secret" "$secret_value" >/dev/null ||
    { echo "bench: the secret read's setup: writing the secret failed"; exit 1; }
  secret_body=$(curl -sS -f -H "Authorization: Bearer $token_secret" "$lkr_url$secret_path") ||
    { echo "bench: the secret read's setup: reading the secret back failed"; exit 1; }
fi

# The GraphQL round's request: one query, POSTed as GraphQL over HTTP
# (docs/graphql.md), on the async server with the root token; its answer,
# {"data":{"me":{"name":"root"}}}, sizes nginx's reply. No '$' or "'" in it
# (it goes into nginx.conf as a quoted string).
graphql_query='{"query":"{ me { name } }"}'
graphql_body=""
if [ "$GRAPHQL" = 1 ]; then
  graphql_body=$(curl -sS -f -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "$graphql_query" "$lk_url/graphql") ||
    { echo "bench: POST /graphql failed (GRAPHQL=0 skips the GraphQL round)"; exit 1; }
  grep -q '"name": *"root"' <<<"$graphql_body" ||
    { echo "bench: POST /graphql answered $graphql_body, not the root's name (GRAPHQL=0 skips the GraphQL round)"; exit 1; }
  cat >"$work/graphql.lua" <<LUA
wrk.method = "POST"
wrk.body = '$graphql_query'
wrk.headers["Content-Type"] = "application/json"
LUA
fi

# --- nginx with a fixed reply of the same size -------------------------------
# (and, at the secret's path, one of the secret read's size; at /graphql,
# one of the GraphQL answer's size, whatever the method)
ng_secret_location=""
[ "$SECRETS" = 1 ] &&
  ng_secret_location="    location = $secret_path { default_type application/json; return 200 '$secret_body'; }"
ng_graphql_location=""
[ "$GRAPHQL" = 1 ] &&
  ng_graphql_location="    location = /graphql { default_type application/json; return 200 '$graphql_body'; }"
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
$ng_secret_location
$ng_graphql_location
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

# The host's CPU time stolen by its hypervisor ("st" in vmstat), as a share
# of all CPU time between two readings of /proc/stat: on a shared VM a run
# with much steal measured the neighbours, not latchkey.
cpu_ticks() { awk '$1=="cpu" { t=0; for (i=2; i<=9; i++) t+=$i; print t, $9 }' /proc/stat; }
steal_pct() { # before-ticks after-ticks
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d=y[1]-x[1];
    printf "%.0f", (d > 0 ? 100*(y[2]-x[2])/d : 0) }'; }

run() { # name url conns [token] [wrk script] -> "rps p50_us p99_us steal_pct"
  local out
  local t=$WRK_THREADS; [ "$3" -lt "$t" ] && t=$3
  local tok=${4:-$token}
  local script=()
  [ -n "${5:-}" ] && script=(-s "$5")
  local before; before=$(cpu_ticks)
  out=$(wrk -t"$t" -c"$3" -d"${DURATION}s" --latency "${script[@]}" -H "Authorization: Bearer $tok" "$2")
  local st; st=$(steal_pct "$before" "$(cpu_ticks)")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: $1 answered non-2xx:" >&2; echo "$out" >&2; exit 1; fi
  echo "$rps $(to_us "$p50") $(to_us "$p99") $st"
}

printf "latchkey %s, %s server threads (%s; audit writer %s), wrk -t%s, %ss per run, loopback\n" \
  "$("$BIN" version | awk '{print $2}')" "$THREADS" "$([ "$AFFINITY" = 1 ] && echo "pinned, --cpu-affinity" || echo unpinned)" \
  "$audit_cpu_note" "$WRK_THREADS" "$DURATION"
printf "%-6s %-28s %12s %10s %10s %8s\n" conns target "req/s" "p50 us" "p99 us" "steal %"
# ROUNDS alternating rounds (nginx, latchkey, latchkey durable) so that a
# noisy minute on a shared host hits all three alike; the ratios are the
# medians of the rounds' own ratios.
median() { sort -g | awk '{v[NR]=$1} END { if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
for c in $CONNS; do
  ratios=""; dratios=""; qratios=""; qdratios=""; quiet=0; jratios=""; jnratios=""
  for r in $(seq "$ROUNDS"); do
    read -r nr n50 n99 nst < <(run nginx "http://127.0.0.1:$ng_port/v1/auth/whoami" "$c")
    read -r lr l50 l99 lst < <(run latchkey "$lk_url/v1/auth/whoami" "$c")
    read -r sr s50 s99 sst < <(run latchkey-sync "$lks_url/v1/auth/whoami" "$c" "$token_sync")
    read -r or o50 o99 ost < <(run latchkey-sa "$lk_url/v1/auth/whoami" "$c" "$token_sa")
    read -r jr j50 j99 jst < <(run latchkey-jwt "$lk_url/v1/auth/whoami" "$c" "$token_jwt")
    [ "$ROUNDS" -gt 1 ] && printf "%-6s round %s of %s\n" "$c" "$r" "$ROUNDS"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "nginx fixed reply" "$nr" "$n50" "$n99" "$nst"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "latchkey whoami (verify)" "$lr" "$l50" "$l99" "$lst"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "  + every read durable" "$sr" "$s50" "$s99" "$sst"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "  service account, opaque" "$or" "$o50" "$o99" "$ost"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "  service account, JWT" "$jr" "$j50" "$j99" "$jst"
    jratios+="$(awk -v j="$jr" -v o="$or" 'BEGIN { print j/o }')"$'\n'
    jnratios+="$(awk -v j="$jr" -v n="$nr" 'BEGIN { print j/n }')"$'\n'
    ratios+="$(awk -v l="$lr" -v n="$nr" 'BEGIN { print l/n }')"$'\n'
    dratios+="$(awk -v s="$sr" -v n="$nr" 'BEGIN { print s/n }')"$'\n'
    if [ "$nst" -le "$QUIET_STEAL" ] && [ "$lst" -le "$QUIET_STEAL" ] && [ "$sst" -le "$QUIET_STEAL" ]; then
      quiet=$((quiet + 1))
      qratios+="$(awk -v l="$lr" -v n="$nr" 'BEGIN { print l/n }')"$'\n'
      qdratios+="$(awk -v s="$sr" -v n="$nr" 'BEGIN { print s/n }')"$'\n'
    fi
  done
  lm=$(printf "%s" "$ratios" | median); dm=$(printf "%s" "$dratios" | median)
  awk -v l="$lm" -v s="$dm" -v c="$c" -v r="$ROUNDS" 'BEGIN { printf "%-6s ratio latchkey/nginx: %.2fx; with every request durably audited: %.2fx%s\n", c, l, s, (r > 1 ? " (medians of " r " rounds)" : "") }'
  jm=$(printf "%s" "$jratios" | median); jn=$(printf "%s" "$jnratios" | median)
  awk -v j="$jm" -v n="$jn" -v c="$c" 'BEGIN { printf "%-6s identity JWT / the same account'"'"'s opaque token: %.2fx (JWT/nginx %.2fx)\n", c, j, n }'
  if [ "$quiet" -gt 0 ] && [ "$quiet" -lt "$ROUNDS" ]; then
    lm=$(printf "%s" "$qratios" | median); dm=$(printf "%s" "$qdratios" | median)
    awk -v l="$lm" -v s="$dm" -v c="$c" -v q="$quiet" -v m="$QUIET_STEAL" 'BEGIN { printf "%-6s in the %d round(s) with steal <= %d%% in every run: %.2fx; durably audited: %.2fx\n", c, q, m, l, s }'
  elif [ "$quiet" -eq 0 ]; then
    printf "%-6s no round ran with steal <= %s%% in every run: the host was busy, the ratios measured it too\n" "$c" "$QUIET_STEAL"
  fi
done

# Where the durable server's time went: its writer's figures at stop.
kill "$lks_pid" 2>/dev/null && wait "$lks_pid" 2>/dev/null || true
lks_pid=""
stats=$(sed -n 's/.*"msg":"\(audit writer: [^"]*\)".*/\1/p' "$work/lk-sync.err" | tail -1)
[ -n "$stats" ] && printf "durable server's %s\n" "$stats"

# Secret reads: an org admin GETs the one secret (decrypt + JSON), reads
# audited as by default; nginx answers a fixed body of the same size.
if [ "$SECRETS" = 1 ]; then
  for c in $CONNS; do
    ratios=""; qratios=""; quiet=0
    for r in $(seq "$ROUNDS"); do
      read -r nr n50 n99 nst < <(run nginx "http://127.0.0.1:$ng_port$secret_path" "$c" "$token_secret")
      read -r lr l50 l99 lst < <(run latchkey-secret "$lkr_url$secret_path" "$c" "$token_secret")
      [ "$ROUNDS" -gt 1 ] && printf "%-6s round %s of %s\n" "$c" "$r" "$ROUNDS"
      printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "nginx fixed reply, ${#secret_body} B" "$nr" "$n50" "$n99" "$nst"
      printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "latchkey secret read" "$lr" "$l50" "$l99" "$lst"
      ratios+="$(awk -v l="$lr" -v n="$nr" 'BEGIN { print l/n }')"$'\n'
      if [ "$nst" -le "$QUIET_STEAL" ] && [ "$lst" -le "$QUIET_STEAL" ]; then
        quiet=$((quiet + 1))
        qratios+="$(awk -v l="$lr" -v n="$nr" 'BEGIN { print l/n }')"$'\n'
      fi
    done
    lm=$(printf "%s" "$ratios" | median)
    awk -v l="$lm" -v c="$c" -v r="$ROUNDS" 'BEGIN { printf "%-6s ratio secret read/nginx: %.2fx%s\n", c, l, (r > 1 ? " (median of " r " rounds)" : "") }'
    if [ "$quiet" -gt 0 ] && [ "$quiet" -lt "$ROUNDS" ]; then
      lm=$(printf "%s" "$qratios" | median)
      awk -v l="$lm" -v c="$c" -v q="$quiet" -v m="$QUIET_STEAL" 'BEGIN { printf "%-6s in the %d round(s) with steal <= %d%% in every run: %.2fx\n", c, q, m, l }'
    elif [ "$quiet" -eq 0 ]; then
      printf "%-6s no round ran with steal <= %s%% in every run: the host was busy, the ratio measured it too\n" "$c" "$QUIET_STEAL"
    fi
  done
  kill "$lkr_pid" 2>/dev/null && wait "$lkr_pid" 2>/dev/null || true
  lkr_pid=""
fi

# GraphQL: the root's { me { name } } POSTed to /graphql on the async server
# (parse, validate, execute over the same svc call whoami makes, JSON out);
# nginx answers a fixed body of the same size to the same POST.
if [ "$GRAPHQL" = 1 ]; then
  for c in $CONNS; do
    ratios=""; qratios=""; quiet=0
    for r in $(seq "$ROUNDS"); do
      read -r nr n50 n99 nst < <(run nginx "http://127.0.0.1:$ng_port/graphql" "$c" "$token" "$work/graphql.lua")
      read -r lr l50 l99 lst < <(run latchkey-graphql "$lk_url/graphql" "$c" "$token" "$work/graphql.lua")
      [ "$ROUNDS" -gt 1 ] && printf "%-6s round %s of %s\n" "$c" "$r" "$ROUNDS"
      printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "nginx fixed reply, ${#graphql_body} B" "$nr" "$n50" "$n99" "$nst"
      printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "latchkey graphql { me }" "$lr" "$l50" "$l99" "$lst"
      ratios+="$(awk -v l="$lr" -v n="$nr" 'BEGIN { print l/n }')"$'\n'
      if [ "$nst" -le "$QUIET_STEAL" ] && [ "$lst" -le "$QUIET_STEAL" ]; then
        quiet=$((quiet + 1))
        qratios+="$(awk -v l="$lr" -v n="$nr" 'BEGIN { print l/n }')"$'\n'
      fi
    done
    lm=$(printf "%s" "$ratios" | median)
    awk -v l="$lm" -v c="$c" -v r="$ROUNDS" 'BEGIN { printf "%-6s ratio graphql/nginx: %.2fx%s\n", c, l, (r > 1 ? " (median of " r " rounds)" : "") }'
    if [ "$quiet" -gt 0 ] && [ "$quiet" -lt "$ROUNDS" ]; then
      lm=$(printf "%s" "$qratios" | median)
      awk -v l="$lm" -v c="$c" -v q="$quiet" -v m="$QUIET_STEAL" 'BEGIN { printf "%-6s in the %d round(s) with steal <= %d%% in every run: %.2fx\n", c, q, m, l }'
    elif [ "$quiet" -eq 0 ]; then
      printf "%-6s no round ran with steal <= %s%% in every run: the host was busy, the ratio measured it too\n" "$c" "$QUIET_STEAL"
    fi
  done
fi

# Audited token creations: each commits with its audit record, and the answer
# waits for the group sync. The DB grows by one token and one record each.
cat >"$work/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"description":"bench","expires":"P1D"}'
wrk.headers["Content-Type"] = "application/json"
LUA
for c in $CONNS; do
  read -r cr c50 c99 cst < <(run latchkey-create "$lk_url/v1/tokens" "$c" "$token" "$work/create.lua")
  printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "audited token creations" "$cr" "$c50" "$c99" "$cst"
done
t0=$(date +%s%N)
verdict=$("$BIN" operator audit verify --data-dir "$work/data-async")
t1=$(date +%s%N)
printf "after the bench, the async server's trail: %s (verified in %.1f s)\n" "$verdict" \
  "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')"

# --- PostgreSQL: one node, then two on one database ----------------------------
# The verify path (whoami: a cached token, its read audited) against nginx,
# and audited token creations (each a write transaction under the
# cluster-wide write lock, with its record, answered once committed).
if [ "$POSTGRES" = 1 ]; then
  [ -n "$lk_pid" ] && kill "$lk_pid" 2>/dev/null && wait "$lk_pid" 2>/dev/null || true
  lk_pid=""
  dsn=$("$(dirname "$0")/pgtmp.sh" start "$work/pg") || { echo "bench: PostgreSQL did not start (POSTGRES=0 skips it)"; exit 1; }
  start_lk pg1 --store "$dsn"
  start_lk pg2 --store "$dsn"
  pg_pids="$(cat "$work/lk-pg1.pid") $(cat "$work/lk-pg2.pid")"
  pg1_url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$work/lk-pg1.out" | head -1)
  pg2_url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$work/lk-pg2.out" | head -1)
  token_pg=$(sed -n 's/^Root token: //p' "$work/lk-pg1.out" "$work/lk-pg2.out" | head -1)
  [ -n "$pg1_url" ] && [ -n "$pg2_url" ] && [ -n "$token_pg" ] ||
    { echo "bench: latchkey on PostgreSQL did not start"; cat "$work"/lk-pg*.err; exit 1; }
  for c in $CONNS; do
    read -r nr n50 n99 nst < <(run nginx "http://127.0.0.1:$ng_port/v1/auth/whoami" "$c")
    read -r lr l50 l99 lst < <(run latchkey-pg "$pg1_url/v1/auth/whoami" "$c" "$token_pg")
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "nginx fixed reply" "$nr" "$n50" "$n99" "$nst"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "PostgreSQL whoami, 1 node" "$lr" "$l50" "$l99" "$lst"
    awk -v l="$lr" -v n="$nr" -v c="$c" 'BEGIN { printf "%-6s ratio latchkey on PostgreSQL/nginx: %.2fx\n", c, l/n }'
    read -r cr c50 c99 cst < <(run latchkey-pg-create "$pg1_url/v1/tokens" "$c" "$token_pg" "$work/create.lua")
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "PostgreSQL creations, 1 node" "$cr" "$c50" "$c99" "$cst"
    # Two nodes at once, half the connections each.
    h=$(( c > 1 ? c / 2 : 1 ))
    run latchkey-pg2-create "$pg2_url/v1/tokens" "$h" "$token_pg" "$work/create.lua" >"$work/pg2.run" &
    second=$!
    read -r ar a50 a99 ast < <(run latchkey-pg1-create "$pg1_url/v1/tokens" "$h" "$token_pg" "$work/create.lua")
    wait "$second"
    read -r br b50 b99 bst <"$work/pg2.run"
    printf "%-6s %-28s %12.0f %10.0f %10.0f %8s\n" "$c" "PostgreSQL creations, 2 nodes" \
      "$(awk -v a="$ar" -v b="$br" 'BEGIN { print a + b }')" "$a50" "$(awk -v a="$a99" -v b="$b99" 'BEGIN { print (a > b ? a : b) }')" "$ast"
  done
  verdict=$(curl -sS -H "Authorization: Bearer $token_pg" "$pg2_url/v1/audit/verify" |
    /usr/bin/python3 -c 'import json, sys; v = json.load(sys.stdin)["chain"]; print("%s records, broken at %s" % (v["records"], v["broken_at"]))')
  printf "after the PostgreSQL rounds, the one trail of both nodes: %s\n" "$verdict"
fi
