#!/usr/bin/env bash
# shellcheck disable=SC2154 # the emulation's variables come from the plan it sources
# Check the Dockerfile: build, run, probe, stop.
#
#   scripts/docker-check.sh            with a Docker engine (`docker info` answers)
#   scripts/docker-check.sh --emulate  without one (see below)
#
# With an engine: `docker build`, run with a fresh volume on a free loopback port, then
# check /health/live, the UID of PID 1 (10001), the image's HEALTHCHECK turning `healthy`,
# and that `docker stop` (SIGTERM) ends the container before Docker's SIGKILL (exit code
# not 137). Removes its container and volume; keeps the image (`taskman:check`).
#
# --emulate (no engine, no registry needed): follows the Dockerfile's own text. The build
# stage's WORKDIR/ENV/COPY/RUN run in a temporary directory with the host toolchain (which
# must be the image's Rust version; the context filtered like .dockerignore, its files
# dated 2000 to show the stub layer cannot leak into the result). The binary then runs as
# PID 1 of a new PID namespace (signals to it behave as in a container) with the runtime
# stage's ENV, USER and CMD, the volume replaced by a directory owned by the UID; the
# HEALTHCHECK command runs as that user; SIGTERM stops it, SIGKILL after 10 s like
# `docker stop`. Not emulated: the base images themselves (bookworm and bookworm-slim:
# compare with `ldd`), the layer cache, networking. A clean release build takes 10-15 min
# on 2 cores; TASKMAN_CHECK_WORK=DIR works in DIR and keeps it, so the next run reuses
# its target/ (only the workspace's crates rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=engine
case ${1:-} in
'') ;;
--emulate) mode=emulate ;;
*)
    sed -n '2,8p' "$0" >&2
    exit 2
    ;;
esac

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_live() { # URL, seconds
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        if curl -fsS -o /dev/null --max-time 2 "$1/health/live" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    return 1
}

if [ "$mode" = engine ]; then
    docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info); try --emulate"
    image=taskman:check
    name=taskman-check-$$
    echo "== docker build -t $image ."
    start=$SECONDS
    docker build -t "$image" . || fail "docker build"
    ok "built $image in $((SECONDS - start)) s"
    # shellcheck disable=SC2329 # called by the trap
    cleanup() { docker rm -f -v "$name" >/dev/null 2>&1 || true; }
    trap cleanup EXIT
    port=$(free_port)
    docker run -d --name "$name" -p "127.0.0.1:$port:8080" "$image" >/dev/null
    wait_live "http://127.0.0.1:$port" 60 || {
        docker logs "$name" >&2
        fail "/health/live did not answer 200 within 60 s"
    }
    ok "/health/live answers 200 on 127.0.0.1:$port"
    uid=$(docker exec "$name" awk '/^Uid:/ {print $2}' /proc/1/status)
    [ "$uid" = 10001 ] || fail "PID 1 runs as UID $uid, not 10001"
    ok "PID 1 runs as UID $uid ($(docker exec "$name" id))"
    for ((i = 0; i < 60; i++)); do
        health=$(docker inspect -f '{{.State.Health.Status}}' "$name")
        [ "$health" = healthy ] && break
        sleep 1
    done
    [ "$health" = healthy ] || fail "HEALTHCHECK status is $health after 60 s"
    ok "HEALTHCHECK reports healthy"
    start=$(date +%s.%N)
    docker stop -t 10 "$name" >/dev/null
    took=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
    code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
    [ "$code" != 137 ] || fail "docker stop needed SIGKILL (exit 137) after ${took} s: SIGTERM not handled"
    ok "docker stop (SIGTERM) stopped it in ${took} s, exit code $code"
    exit 0
fi

# ---- emulation without an engine
for tool in python3 unshare setpriv curl cargo; do
    command -v "$tool" >/dev/null || fail "needs $tool"
done
[ "$(id -u)" = 0 ] || fail "--emulate needs root (a PID namespace, running as UID 10001)"
if [ -n "${TASKMAN_CHECK_WORK:-}" ]; then
    work=$TASKMAN_CHECK_WORK
    mkdir -p "$work/root/src"
    find "$work/root/src" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
    rm -rf "$work/context" "$work/root/out" "$work/volume"
else
    work=$(mktemp -d /tmp/taskman-docker-check.XXXXXX)
fi
chmod 755 "$work"
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    if [ -n "${TASKMAN_CHECK_WORK:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The Dockerfile, read by its own instructions: a plan in shell-quoted lines.
python3 - Dockerfile "$work/plan.sh" <<'PY'
import re, shlex, sys, json
src, out = sys.argv[1], sys.argv[2]
lines, cur = [], ""
for raw in open(src):
    s = raw.rstrip("\n")
    if s.lstrip().startswith("#"):
        continue  # comments are dropped, also inside a continued instruction
    if s.endswith("\\"):
        cur += s[:-1] + "\n"
        continue
    cur += s
    if cur.strip():
        lines.append(cur.strip())
    cur = ""
args, stage, plan = {}, None, {"build": [], "runtime": {"env": {}}, "shell": ["/bin/sh", "-c"]}
def sub(v):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), v)
for l in lines:
    op, _, rest = l.partition(" ")
    op = op.upper()
    if op == "ARG":
        k, _, v = rest.partition("=")
        args.setdefault(k.strip(), v.strip())
    elif op == "FROM":
        parts = rest.split()
        stage = parts[-1] if len(parts) >= 3 else None
        plan.setdefault("images", []).append(sub(parts[0]))
    elif stage == "build":
        if op == "SHELL":
            plan["shell"] = json.loads(rest)
        elif op in ("WORKDIR", "COPY", "RUN"):
            plan["build"].append([op, rest])
        elif op == "ENV":
            for t in shlex.split(rest.replace("\n", " ")):
                k, _, v = t.partition("=")
                plan["build"].append(["ENV", f"{k}={v}"])
    elif stage == "runtime":
        r = plan["runtime"]
        if op == "ENV":
            for t in shlex.split(rest.replace("\n", " ")):
                k, _, v = t.partition("=")
                r["env"][k] = v
        elif op == "USER":
            r["user"] = sub(rest)
        elif op in ("ENTRYPOINT", "CMD"):
            r[op.lower()] = json.loads(rest)
        elif op == "HEALTHCHECK":
            r["health"] = json.loads(rest[rest.index("CMD") + 3:].strip())
        elif op == "STOPSIGNAL":
            r["stopsignal"] = rest
        elif op == "VOLUME":
            r["volume"] = json.loads(rest)[0]
with open(out, "w") as f:
    q = shlex.quote
    f.write(f"images=({' '.join(q(i) for i in plan['images'])})\n")
    f.write("build_shell=(" + " ".join(q(a) for a in plan["shell"]) + ")\n")
    f.write("build=(\n" + "".join(f"  {q(op)} {q(a)}\n" for op, a in plan["build"]) + ")\n")
    r = plan["runtime"]
    f.write("run_env=(" + " ".join(q(f"{k}={v}") for k, v in r["env"].items()) + ")\n")
    f.write(f"run_user={q(r['user'])}\nstopsignal={q(r['stopsignal'])}\nvolume={q(r['volume'])}\n")
    f.write("run_cmd=(" + " ".join(q(a) for a in r["entrypoint"] + r["cmd"]) + ")\n")
    f.write("health_cmd=(" + " ".join(q(a) for a in r["health"]) + ")\n")
PY
# shellcheck disable=SC1091
source "$work/plan.sh"
echo "base images (not emulated): ${images[*]}"
want_rust=$(printf '%s\n' "${images[@]}" | sed -n 's/^rust:\([0-9.]*\)-.*/\1/p')
have_rust=$(rustc --version | awk '{print $2}')
[ "$want_rust" = "$have_rust" ] || echo "note: the image builds with Rust $want_rust, this host has $have_rust"

# The build context, as .dockerignore lets it through, dated 2000.
ctx=$work/context
mkdir -p "$ctx"
git ls-files -co --exclude-standard -- Cargo.toml Cargo.lock crates tests/fixtures/seeds |
    grep -v -e '/target/' -e '\.env$' -e '\.db$' | tar -cf - -T - | tar -xf - -C "$ctx"
find "$ctx" -exec touch -h -d '2000-01-01 00:00:00' {} +

# The build stage: every path the Dockerfile names under / moves under $work/root.
root=$work/root
mkdir -p "$root"
wd=/
start=$SECONDS
for ((i = 0; i < ${#build[@]}; i += 2)); do
    op=${build[i]} arg=${build[i + 1]}
    case $op in
    WORKDIR)
        wd=$arg
        mkdir -p "$root$wd"
        ;;
    ENV) export "${arg?}" ;;
    COPY)
        read -r -a parts <<<"$arg"
        dest=${parts[-1]}
        [[ $dest = /* ]] || dest=$wd/$dest
        for s in "${parts[@]:0:${#parts[@]}-1}"; do
            if [ -d "$ctx/$s" ]; then
                mkdir -p "$root$dest"
                cp -a "$ctx/$s/." "$root$dest/"
            elif [[ $dest = */ ]]; then
                mkdir -p "$root$dest"
                cp -a "$ctx/$s" "$root$dest"
            else
                mkdir -p "$(dirname "$root$dest")"
                cp -a "$ctx/$s" "$root$dest"
            fi
        done
        echo "== COPY $arg"
        ;;
    RUN)
        cmd=${arg//\/out\//$root/out/}
        echo "== RUN $(head -c 200 <<<"$arg" | tr '\n' ' ')..."
        (cd "$root$wd" && "${build_shell[@]}" "$cmd") || fail "build stage: RUN failed"
        ;;
    esac
done
bin=$root/out/taskman
[ -x "$bin" ] || fail "the build stage left no /out/taskman"
ok "build stage done in $((SECONDS - start)) s: $("$bin" --version)"
echo "shared libraries (bookworm-slim has libc6 and libgcc-s1):"
ldd "$bin" | sed 's/^/    /'

# The runtime stage.
uid=${run_user%%:*} gid=${run_user##*:}
data=$work/volume
install -d -o "$uid" -g "$gid" -m 0750 "$data"
port=$(free_port)
envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin) # the Debian image's
for e in "${run_env[@]}"; do
    e=${e//$volume/$data}
    case $e in TASKMAN_LISTEN=*) e=TASKMAN_LISTEN=127.0.0.1:$port ;; esac # loopback only here
    envs+=("$e")
done
as_user=(setpriv --reuid "$uid" --regid "$gid" --clear-groups --inh-caps=-all --no-new-privs)
cmd=("${run_cmd[@]}")
cmd[0]=$bin
(cd "$data" && exec unshare --pid --fork --kill-child "${as_user[@]}" env -i "${envs[@]}" "${cmd[@]}") \
    >"$work/server.log" 2>&1 &
outer=$!
wait_live "http://127.0.0.1:$port" 60 || {
    cat "$work/server.log" >&2
    fail "/health/live did not answer 200 within 60 s"
}
pid=$(pgrep -P "$outer" | head -1) # unshare forked it; setpriv and env exec'd
[ -n "$pid" ] || fail "cannot find the server process"
ns_pid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")
run_uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$ns_pid" = 1 ] || fail "the server is PID $ns_pid in its namespace, not 1"
[ "$run_uid" = "$uid" ] || fail "the server runs as UID $run_uid, not $uid"
ok "/health/live answers 200; the server is PID 1 of its namespace, UID $run_uid"
db_owner=$(stat -c %u "$data/taskman.db")
[ "$db_owner" = "$uid" ] || fail "the database file belongs to UID $db_owner"
ok "the SQLite file is in the volume, owned by UID $db_owner"
if (cd "$data" && "${as_user[@]}" env -i "${envs[@]}" "${health_cmd[@]}"); then
    ok "the HEALTHCHECK command succeeds as UID $uid"
else
    fail "the HEALTHCHECK command failed while the server is up"
fi

sig=${stopsignal#SIG}
start=$(date +%s.%N)
kill -s "$sig" "$pid"
killed=no
for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    killed=yes
fi
wait "$outer" 2>/dev/null || true
took=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
if (cd "$data" && "${as_user[@]}" env -i "${envs[@]}" "${health_cmd[@]}") 2>/dev/null; then
    fail "the HEALTHCHECK command still succeeds after the server stopped"
fi
ok "the HEALTHCHECK command fails once the server is gone"
echo "server output:"
sed 's/^/    /' "$work/server.log"
[ "$killed" = no ] ||
    fail "SIG$sig to PID 1 did not stop the server within 10 s; SIGKILL needed (docker stop would do the same): PID 1 ignores signals it has no handler for"
ok "SIG$sig stopped the server (PID 1) in $took s"
