#!/usr/bin/env bash
# Fuzzes request decoding and validation for a bounded time.
#
#   bench/fuzz.sh [SECONDS]        default 60, for each fuzz target
#
# Builds the cargo-fuzz targets in fuzz/ (installing cargo-fuzz if it is
# missing), runs each for SECONDS with libFuzzer's -max_total_time, prints
# how many inputs were executed, and exits non-zero if an input crashed
# (panicked), hung or ran out of memory; the input that did it is saved
# under fuzz/artifacts/<target>/ and can be replayed with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
#
# Only a stable toolchain is needed: cargo fuzz passes -Z flags to rustc,
# which RUSTC_BOOTSTRAP=1 allows on stable.
#
# Environment:
#   FUZZ_SANITIZER  none (default: safe Rust, the panics are what we are
#                   after, and it builds and runs faster) or address
#   FUZZ_TARGETS    space-separated targets (default: all of `cargo fuzz list`)
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS]" >&2
    exit 2
fi
sanitizer="${FUZZ_SANITIZER:-none}"

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz…" >&2
    cargo install cargo-fuzz --locked
fi

read -r -a targets <<<"${FUZZ_TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"
if [ "${#targets[@]}" -eq 0 ]; then
    echo "no fuzz targets found" >&2
    exit 1
fi

build_started=$(date +%s)
for target in "${targets[@]}"; do
    cargo fuzz build --sanitizer "$sanitizer" "$target"
done
echo "fuzz build: $(($(date +%s) - build_started)) s"

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log=$(mktemp)
    started=$(date +%s)
    # -timeout: an input taking over 10 s counts as a hang (a crash).
    # The seeds in corpus/<target>/seed-* are read; what libFuzzer learns is
    # added beside them (git-ignored) and reused on the next run.
    set +e
    cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tee "$log"
    result=${PIPESTATUS[0]}
    set -e
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz $target: ${executions:-unknown} executions in $(($(date +%s) - started)) s, exit status $result"
    if [ "$result" -ne 0 ]; then
        echo "fuzz $target FAILED: see the crash above and fuzz/artifacts/$target/" >&2
        status=1
    fi
    rm -f "$log"
done
exit "$status"
