#!/usr/bin/env bash
# Load benchmark of the HTTP API: wrk in a second process over 127.0.0.1, 64 connections,
# against (1) a bare axum "hello world", the ceiling of this machine, and (2) `taskman
# serve` on the embedded SQLite default (durable), and (3) on PostgreSQL when
# TASKMAN_BENCH_POSTGRES_URL names a server (a database `taskman_bench` is created and
# dropped there). Prints a markdown table for BENCHMARKS.md: requests/s, the ratio to the
# ceiling, p50 and p99 latency, and any non-2xx answers (which must be 0).
#
#   scripts/bench-http.sh                       # SQLite only
#   TASKMAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench-http.sh
#
# Environment: DURATION (default 10s), CONNECTIONS (64), TASKS (10000 in the project).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
TASKS=${TASKS:-10000}
TOKEN=tm_bench000_0123456789abcdef0123
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
HELLO_ADDR=127.0.0.1:$(free_port)
API_ADDR=127.0.0.1:$(free_port)

if ! command -v wrk >/dev/null; then
    echo "bench-http: wrk is missing (apt-get install wrk)" >&2
    exit 2
fi

cargo build --release --bin taskman
cargo build --release -p taskman-api --example hello
TASKMAN=target/release/taskman
HELLO=target/release/examples/hello

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # url
    for _ in $(seq 1 200); do
        curl -fs "$1" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "bench-http: $1 did not come up" >&2
    exit 1
}

# A plan of $TASKS tasks in 100 sections, every third one done.
python3 - "$TASKS" >"$work/plan.md" <<'PY'
import sys
n = int(sys.argv[1])
print("# Load plan\n")
per = max(1, n // 100)
for i in range(n):
    if i % per == 0:
        print(f"\n## Section {i // per}\n")
    box = "x" if i % 3 == 0 else " "
    print(f"- [{box}] Task {i}: do the thing number {i}")
PY

cat >"$work/get_task.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
local n = $TASKS
request = function()
    return wrk.format("GET", "/api/v1/tasks/" .. math.random(1, n))
end
LUA
cat >"$work/post_task.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "A task from the load run", "priority": "high", "tags": ["load"]}'
LUA

rows=()
ceiling=""
run() { # label backend expected-status url [wrk args...]
    local label=$1 backend=$2 expect=$3 url=$4
    shift 4
    # One request first: the endpoint must answer what the run measures (a 3xx or 4xx
    # answered fast would flatter the figures).
    local probe=(curl -s -o /dev/null -w '%{http_code}')
    local got
    case "$label" in
        POST*) got=$("${probe[@]}" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title": "probe"}' "$url") ;;
        "GET one task"*) got=$("${probe[@]}" -H "Authorization: Bearer $TOKEN" "$url/api/v1/tasks/1") ;;
        *) got=$("${probe[@]}" "$@" "$url") ;;
    esac
    if [ "$got" != "$expect" ]; then
        echo "bench-http: $label: expected $expect from $url, got $got" >&2
        exit 1
    fi
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    non2xx=${non2xx:-0}
    [ -z "$ceiling" ] && ceiling=$rps
    local ratio
    ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN {printf "%.2f", a / b}')
    rows+=("| $label | $backend | $(printf '%.0f' "$rps") | $ratio | $p50 | $p99 | $non2xx |")
    echo "$label ($backend): $rps req/s, p50 $p50, p99 $p99, non-2xx $non2xx" >&2
}

bench_taskman() { # backend db-url
    local backend=$1 db=$2
    # Rate limits off: the run measures throughput, not the limiter's refusals.
    TASKMAN_RATE_LIMIT_READS_PER_MINUTE=0 TASKMAN_RATE_LIMIT_WRITES_PER_MINUTE=0 \
        TASKMAN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE=0 \
        TASKMAN_BOOTSTRAP_TOKEN=$TOKEN "$TASKMAN" serve --listen "$API_ADDR" --db "$db" \
        >"$work/serve-$backend.log" 2>&1 &
    pids+=($!)
    wait_for "http://$API_ADDR/health/live"
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
        cat "$work/serve-$backend.log" >&2
        exit 1
    fi
    local auth=(-H "Authorization: Bearer $TOKEN")
    curl -fs "${auth[@]}" -H 'Content-Type: application/json' \
        -d '{"name": "load"}' "http://$API_ADDR/api/v1/projects" >/dev/null
    curl -fs "${auth[@]}" -H 'Content-Type: text/markdown' --data-binary @"$work/plan.md" \
        "http://$API_ADDR/api/v1/projects/1/plans?name=plan.md" >/dev/null
    run "GET one task (random of $TASKS)" "$backend" 200 "http://$API_ADDR" -s "$work/get_task.lua"
    run "GET page of 50, status=todo (of $TASKS)" "$backend" 200 \
        "http://$API_ADDR/api/v1/projects/1/tasks?status=todo&limit=50" "${auth[@]}"
    run "POST a task (durable)" "$backend" 201 "http://$API_ADDR/api/v1/projects/1/tasks" \
        -s "$work/post_task.lua"
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
        echo "bench-http: the server died during the run:" >&2
        cat "$work/serve-$backend.log" >&2
        exit 1
    fi
    kill "${pids[-1]}"
    wait "${pids[-1]}" 2>/dev/null || true
}

"$HELLO" "$HELLO_ADDR" >"$work/hello.log" 2>&1 &
pids+=($!)
wait_for "http://$HELLO_ADDR/"
run "hello world (bare axum, the ceiling)" "-" 200 "http://$HELLO_ADDR/"
kill "${pids[-1]}"

bench_taskman sqlite "$work/bench.db"

if [ -n "${TASKMAN_BENCH_POSTGRES_URL:-}" ]; then
    base=${TASKMAN_BENCH_POSTGRES_URL%/*}
    psql "$TASKMAN_BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS taskman_bench WITH (FORCE)"
    psql "$TASKMAN_BENCH_POSTGRES_URL" -qc "CREATE DATABASE taskman_bench"
    bench_taskman postgres "$base/taskman_bench"
    psql "$TASKMAN_BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS taskman_bench WITH (FORCE)"
fi

echo
echo "wrk -t2 -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| endpoint | database | requests/s | ratio to ceiling | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
