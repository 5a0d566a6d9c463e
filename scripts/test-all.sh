#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, end-to-end, property, crash and
# sync-server tests against a real server on 127.0.0.1). The README names this script as the
# one test command. Benchmarks are only compiled here; `cargo bench` runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo test --workspace --lib --bins --tests
cargo check --workspace --benches --quiet
