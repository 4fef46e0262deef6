#!/usr/bin/env bash
# The project's test command (the README's): every test of the workspace, then the doc tests.
# Installs cargo-nextest if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "test: cargo-nextest missing, installing"
    cargo install cargo-nextest --locked
fi

cargo nextest run --workspace --no-tests=fail
cargo test --workspace --doc
