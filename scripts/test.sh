#!/usr/bin/env bash
# The project's test command (the README's): every test of the workspace, then the doc tests.
# Installs cargo-nextest if it is missing. Ends with one plain line
#   tests: N passed, 0 failed
# totalling both runs (the doc tests come last and may well count 0 on their own).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "test: cargo-nextest missing, installing"
    cargo install cargo-nextest --locked
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo nextest run --workspace --no-tests=fail 2>&1 | tee "$log"
cargo test --workspace --doc 2>&1 | tee -a "$log"

# Both commands succeeded (set -e, pipefail), so nothing failed.
unit=$(grep -oE '[0-9]+ tests? run: [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
doc=$(grep -oE 'test result: ok\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
echo "tests: $((unit + doc)) passed, 0 failed"
