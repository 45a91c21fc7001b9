#!/usr/bin/env bash
# Start-up time (launch to the first 200 from /health) and idle memory of the
# release binary, on SQLite and on PostgreSQL. Prints a table.
#   bench/startup.sh            (PostgreSQL from BENCH_POSTGRES_URL, default the local server)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
pg_server=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --quiet
bin=target/release/naloxone-tracker

# Median of the numbers on standard input.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# One start: prints "<ms to first /health> <idle RSS in KiB>".
start_once() {
  local url=$1 dir=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local t0; t0=$(date +%s%N)
  RUST_LOG=warn "$bin" --data-dir "$dir" --database-url "$url" --bind "127.0.0.1:$port" >/dev/null 2>&1 &
  local pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.002; done
  local t1; t1=$(date +%s%N)
  sleep 2
  local rss; rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$(( (t1 - t0) / 1000000 )) $rss"
}

measure() {
  local name=$1 url=$2 dir=$3
  local first; first=$(start_once "$url" "$dir")   # creates the schema
  local times=() rss=()
  for _ in $(seq "$runs"); do
    read -r ms kib < <(start_once "$url" "$dir")
    times+=("$ms"); rss+=("$kib")
  done
  printf '| %-10s | %14s | %13s | %15s |\n' "$name" "${first%% *} ms" \
    "$(printf '%s\n' "${times[@]}" | median) ms" "$(( $(printf '%s\n' "${rss[@]}" | median | cut -d. -f1) / 1024 )) MiB"
}

echo "cores: $(nproc), runs: $runs (median)"
printf '| %-10s | %14s | %13s | %15s |\n' backend "first start" "restart" "idle memory"
printf '|%s|%s|%s|%s|\n' ------------ ---------------- --------------- -----------------
sqlite_dir=$(mktemp -d)
measure SQLite "sqlite://$sqlite_dir/naloxone.db" "$sqlite_dir"
db="nx_bench_$$"
psql -q "$pg_server" -c "CREATE DATABASE $db" >/dev/null
trap 'psql -q "$pg_server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; rm -rf "$sqlite_dir"' EXIT
measure PostgreSQL "${pg_server%/*}/$db" "$(mktemp -d)"
