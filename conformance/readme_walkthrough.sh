#!/usr/bin/env bash
# Runs the README's walk-through, every ```sh block from "## Using the API" up to
# "## PostgreSQL", top to bottom, against a fresh server on SQLite, as a newcomer would after
# "The first admin" (you@example.org, "your password"). curl fails on any error status, so a
# step that no longer works stops the run. Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/naloxone-readme.XXXXXX")
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --locked --quiet --bin naloxone-tracker
bin=$root/target/debug/naloxone-tracker
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
args=(--data-dir "$work/data" --database-url "sqlite://$work/data/naloxone.db")
mkdir -p "$work/data"
echo "your password" | (cd "$work" && RUST_LOG=warn "$bin" create-admin --email you@example.org "${args[@]}" >/dev/null)
(cd "$work" && exec env RUST_LOG=warn BIND_ADDRESS="127.0.0.1:$port" "$bin" serve "${args[@]}" >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done

# The blocks, in order, with the server's address for the README's.
awk '/^## Using the API/ {on = 1} /^## PostgreSQL/ {on = 0}
     on && /^```sh$/ {block = 1; next} block && /^```$/ {block = 0; next} block' "$root/README.md" |
  sed "s|^BASE=http://127.0.0.1:8080$|BASE=http://127.0.0.1:$port|" >"$work/walkthrough.sh"
status=0
(
  cd "$work"
  # Every curl of the walk-through fails on an error status and shows the answer.
  curl() { command curl --fail-with-body --show-error "$@"; }
  set -euo pipefail
  # shellcheck disable=SC1091
  source "$work/walkthrough.sh" >"$work/walkthrough.log"
  cp "$work/walkthrough.log" "${README_WALKTHROUGH_LOG:-/dev/null}"
) || status=$?
if [ "$status" -ne 0 ]; then
  tail -20 "$work/walkthrough.log" >&2 || true
  tail -20 "$work/server.log" >&2 || true
  echo "the README walk-through failed (exit $status)" >&2
  exit 1
fi
echo "readme walkthrough: $(grep -c 'curl ' "$work/walkthrough.sh") curl commands passed"
