#!/usr/bin/env bash
# Bounded fuzzing of the markdown reader on the STABLE toolchain.
#
#   scripts/fuzz.sh [SECONDS]        (default 60)
#
# Installs cargo-fuzz if missing, seeds the working corpus from the committed fixtures
# (tests/fixtures/seeds/*.txt) and, when present, the shared corpus (*.md in
# $TASKMAN_CORPUS_DIR/files, default ../shared/corpus/files), then runs the target for SECONDS.
# Exits non-zero on a crash, panic, timeout or OOM and prints where the artifact is.
#
# Environment (all optional):
#   FUZZ_TARGET        fuzz target name                (default parse)
#   FUZZ_SANITIZER     none | address                  (default none: works on plain stable;
#                      address needs -Zsanitizer, so this script then sets RUSTC_BOOTSTRAP=1)
#   FUZZ_CORPUS_DIR    working corpus, written to      (default fuzz/corpus/$FUZZ_TARGET, git-ignored)
#   FUZZ_TIMEOUT       seconds one input may take before it counts as a failure (default 10)
#   FUZZ_RSS_LIMIT_MB  memory limit                    (default 2048)
#   CARGO_FUZZ_VERSION cargo-fuzz version to install   (default 0.13.2)
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${1:-60}
if ! [[ $budget =~ ^[0-9]+$ ]] || [ "$budget" -eq 0 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS]   (SECONDS a positive integer, got '$budget')" >&2
    exit 2
fi
target=${FUZZ_TARGET:-parse}
sanitizer=${FUZZ_SANITIZER:-none}
corpus=${FUZZ_CORPUS_DIR:-fuzz/corpus/$target}
artifacts=fuzz/artifacts/$target
cargo_fuzz_version=${CARGO_FUZZ_VERSION:-0.13.2}

# --- tool -------------------------------------------------------------------------------
if cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: $(cargo fuzz --version)"
else
    echo "fuzz: cargo-fuzz missing, installing $cargo_fuzz_version"
    t0=$SECONDS
    cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
    echo "fuzz: installed cargo-fuzz in $((SECONDS - t0)) s"
fi
echo "fuzz: $(rustc --version)"

case $sanitizer in
    none) ;;
    address | leak | thread | memory)
        # Sanitizers are still -Z flags. RUSTC_BOOTSTRAP=1 lets the stable rustc accept them.
        # Cargo caches `rustc -vV`/target-info output (target/.rustc_info.json) WITHOUT keying
        # on RUSTC_BOOTSTRAP, so a failure cached by an earlier run without it would stick:
        # disable that cache.
        export RUSTC_BOOTSTRAP=1 CARGO_CACHE_RUSTC_INFO=0
        ;;
    *)
        echo "fuzz: unknown FUZZ_SANITIZER '$sanitizer'" >&2
        exit 2
        ;;
esac

# --- corpus -----------------------------------------------------------------------------
mkdir -p "$corpus" "$artifacts"
seeded=0
shopt -s nullglob
for f in tests/fixtures/seeds/*.txt; do
    cp -f "$f" "$corpus/" && seeded=$((seeded + 1))
done
shared=${TASKMAN_CORPUS_DIR:-../shared/corpus}/files
if [ -d "$shared" ]; then
    for f in "$shared"/*.md; do
        cp -f "$f" "$corpus/shared_$(basename "$f")" && seeded=$((seeded + 1))
    done
else
    echo "fuzz: no shared corpus at $shared, seeding from the fixtures only"
fi
shopt -u nullglob
chmod -R u+w "$corpus" # seeds are read-only in the repo; libFuzzer may rewrite/merge
echo "fuzz: corpus $corpus: $seeded seed files copied, $(find "$corpus" -type f | wc -l) files in all"

# --- build (separately, so the fuzzing budget is not eaten by compilation) -------------
t0=$SECONDS
cargo fuzz build -s "$sanitizer" "$target"
echo "fuzz: built $target (sanitizer $sanitizer) in $((SECONDS - t0)) s"

# --- run --------------------------------------------------------------------------------
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
t0=$SECONDS
set +e
# The outer timeout only guards against libFuzzer itself wedging; -max_total_time ends a
# normal run and -timeout turns a hanging input into a reported failure.
timeout -k 30 $((budget + 300)) \
    cargo fuzz run -s "$sanitizer" "$target" "$corpus" -- \
    -max_total_time="$budget" \
    -timeout="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}" \
    -print_final_stats=1
rc=$?
set -e
echo "fuzz: ran $((SECONDS - t0)) s, exit $rc"

if [ "$rc" -ne 0 ]; then
    echo "fuzz: FAILED: target $target exited $rc" >&2
    [ "$rc" -eq 124 ] && echo "fuzz: the run overran its budget and was killed" >&2
    found=0
    while IFS= read -r -d '' a; do
        found=1
        echo "fuzz: crash artifact: $PWD/$a ($(stat -c %s "$a") bytes)" >&2
        echo "fuzz:   reproduce: cargo fuzz run -s $sanitizer $target $a" >&2
        echo "fuzz:   minimize:  cargo fuzz tmin -s $sanitizer $target $a" >&2
        if [ "$(stat -c %s "$a")" -le 65536 ]; then
            # CI clones are thrown away: put the input in the log so it can be recreated
            # with `base64 -d > crash.bin`.
            echo "fuzz:   base64 of the input:" >&2
            base64 "$a" >&2
        fi
    done < <(find "$artifacts" -type f -newer "$stamp" -print0)
    [ "$found" -eq 0 ] && echo "fuzz: no new artifact in $artifacts (see the output above)" >&2
    exit "$rc"
fi
echo "fuzz: OK, no crash in ${budget} s"
