#!/usr/bin/env bash
# Conformance of the server to its own OpenAPI document, openapi/openapi.json:
#
#  1. the document passes two independent validators: openapi-spec-validator (PyPI) and
#     Redocly CLI's lint (npm) with its recommended-strict rules (conformance/redocly.yaml);
#  2. a Python client generated from it by openapi-python-client, untouched, runs
#     conformance/client_demo.py against a live server: sign in, a handout, a sync batch,
#     a reversal, statistics;
#  3. schemathesis runs every operation of the document against the live server, signed in
#     as an admin, with all of its checks, and fails on any finding.
#
# Steps 2 and 3 run on a fresh SQLite database, then again on a fresh PostgreSQL database when
# one answers on 127.0.0.1:5432 (user postgres, trust auth; CONFORMANCE_POSTGRES=0 skips it,
# =1 requires it). The pinned tools live in a virtualenv cached under
# ${XDG_CACHE_HOME:-~/.cache}/naloxone-tracker-conformance, keyed by the lock file.
#
# Knobs: CONFORMANCE_MAX_EXAMPLES (schemathesis cases per operation and phase, default 30),
# CONFORMANCE_SEED (schemathesis seed; random by default, printed either way).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
conformance=$root/conformance

REDOCLY_CLI_VERSION=2.77.0
max_examples=${CONFORMANCE_MAX_EXAMPLES:-30}
seed=${CONFORMANCE_SEED:-$(python3 -c 'import secrets; print(secrets.randbits(63))')}
admin_email=admin@conformance.example
admin_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
started=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/naloxone-conformance.XXXXXX")
server_pid=""
pg_database=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

cleanup() {
  stop_server
  if [ -n "$pg_database" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '== conformance: %s (%ss)\n' "$*" "$((SECONDS - started))"; }

step "server binary"
# A no-op after `cargo test`, which builds it; never the release profile.
cargo build --locked --quiet --bin naloxone-tracker
bin=$root/target/debug/naloxone-tracker

step "Python tools (conformance/requirements.lock)"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/naloxone-tracker-conformance
key=$( (cat "$conformance/requirements.lock"; python3 --version) | sha256sum | cut -c1-16)
venv=$cache/venv-$key
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r "$conformance/requirements.lock"
  touch "$venv/.complete"
fi
export PATH="$venv/bin:$PATH"
# The tools' own versions, as installed.
python -m pip list --disable-pip-version-check 2>/dev/null |
  grep -Ei '^(schemathesis|openapi-spec-validator|openapi-python-client) ' | tr -s ' ' | sed 's/^/   /'

step "validator 1: openapi-spec-validator"
openapi-spec-validator openapi/openapi.json

step "validator 2: Redocly CLI $REDOCLY_CLI_VERSION lint (recommended-strict)"
redocly_status=0
npx --yes "@redocly/cli@$REDOCLY_CLI_VERSION" lint --config "$conformance/redocly.yaml" \
  openapi/openapi.json >"$work/redocly.log" 2>&1 || redocly_status=$?
# Leave out npx's notices and Redocly's boxed banner about Node.js versions.
grep -v -e '^npm warn' -e '[║╔╚]' -e '^ *$' "$work/redocly.log" | sed 's/^/   /' || true
if [ "$redocly_status" -ne 0 ]; then
  echo "Redocly lint failed (exit $redocly_status)" >&2
  exit 1
fi

step "client: openapi-python-client generate"
(cd "$work" && openapi-python-client generate --path "$root/openapi/openapi.json" --meta none \
  --output-path "$work/client/naloxone_client" >"$work/generate.log" 2>&1) || {
  cat "$work/generate.log" >&2
  exit 1
}
if grep -qi 'warning' "$work/generate.log"; then
  cat "$work/generate.log" >&2
  echo "openapi-python-client warned about the document" >&2
  exit 1
fi
echo "   $(find "$work/client" -name '*.py' | wc -l) modules, used as generated"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_pass LABEL [DATABASE_URL]: a fresh server, the fixture, the client demo, schemathesis.
run_pass() {
  local label=$1 database_url=${2:-} port data base
  port=$(free_port)
  data=$work/$label
  base=http://127.0.0.1:$port
  mkdir -p "$data"
  # Named in full, so that a DATABASE_URL in the environment cannot point a pass elsewhere.
  local -a db_args=(--data-dir "$data" --database-url "${database_url:-sqlite://$data/naloxone.db}")

  step "$label: server on $base"
  # Run from the work folder so that no .env of the checkout changes the settings. Throttles
  # are raised so that fuzzing reaches the code behind them; their 429s are documented.
  printf '%s\n' "$admin_password" |
    (cd "$work" && RUST_LOG=warn "$bin" create-admin --email "$admin_email" "${db_args[@]}" >/dev/null)
  (cd "$work" && exec env RUST_LOG=warn BIND_ADDRESS="127.0.0.1:$port" \
    ACCESS_TOKEN_TTL_SECONDS=7200 LOGIN_MAX_FAILURES=1000000 LOGIN_ACCOUNT_MAX_FAILURES=1000000 \
    LOGIN_ADDRESS_MAX_FAILURES=1000000 VERIFY_RATE_PER_MINUTE=1000000 \
    "$bin" serve "${db_args[@]}" >"$work/$label-server.log" 2>&1) &
  server_pid=$!
  if ! python3 - "$base/health" "$server_pid" <<'PY'; then
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
for _ in range(300):
    try:
        urllib.request.urlopen(url, timeout=1).read()
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(1)
        time.sleep(0.1)
sys.exit(1)
PY
    cat "$work/$label-server.log" >&2
    echo "the server did not start" >&2
    exit 1
  fi

  step "$label: fixture"
  python3 "$conformance/fixture.py" "$base" "$admin_email" "$admin_password" "$data/fixture.json"

  step "$label: client demo (generated client)"
  python "$conformance/client_demo.py" "$base" "$data/fixture.json" "$work/client" | tee "$data/demo.log"
  local checks
  checks=$(sed -n 's/^client demo: \([0-9]*\) checks passed$/\1/p' "$data/demo.log")
  passed=$((passed + ${checks:-0}))

  step "$label: schemathesis, every operation, all checks, $max_examples examples, seed $seed"
  local token
  token=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin_token"])' "$data/fixture.json")
  local status=0
  (
    cd "$data"
    # conformance/schemathesis.toml with the fixture's ids as dictionaries.
    cat "$conformance/schemathesis.toml" "$data/dictionaries.toml" >"$data/schemathesis.toml"
    PYTHONDONTWRITEBYTECODE=1 \
      schemathesis --config-file "$data/schemathesis.toml" run "$root/openapi/openapi.json" \
      --url "$base" -H "Authorization: Bearer $token" \
      --checks all --max-examples "$max_examples" --seed "$seed" --workers 2 \
      --no-color --report junit --report-dir "$data/report" 2>&1 | tee "$data/schemathesis.log"
  ) || status=$?
  stop_server
  local cases
  cases=$(grep -E '^ *[0-9]+ generated' "$data/schemathesis.log" | tail -1 | sed 's/^ *//') || true
  echo "   $label: schemathesis test cases: ${cases:-unknown}"
  summary+=("$label: ${cases:-unknown}")
  local cases_passed
  cases_passed=$(printf '%s\n' "$cases" | sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p')
  passed=$((passed + ${cases_passed:-0}))
  if [ "$status" -ne 0 ]; then
    echo "   server log: last lines" >&2
    tail -20 "$work/$label-server.log" >&2 || true
    echo "schemathesis found problems on $label (exit $status); reproduce with CONFORMANCE_SEED=$seed" >&2
    exit "$status"
  fi
}

summary=()
passed=2 # the two validators
run_pass sqlite

postgres=${CONFORMANCE_POSTGRES:-auto}
if [ "$postgres" != 0 ]; then
  if command -v psql >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    pg_database=naloxone_conformance_$$_$RANDOM
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_database" >/dev/null
    run_pass postgres "postgres://postgres@127.0.0.1:5432/$pg_database"
  elif [ "$postgres" = 1 ]; then
    echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2
    exit 1
  else
    echo "== conformance: no PostgreSQL on 127.0.0.1:5432, SQLite only"
  fi
fi

step "passed"
printf '   schemathesis: %s\n' "${summary[@]}"
echo "   conformance passed in $((SECONDS - started)) s"
# Validators, client demo checks and schemathesis cases, in the form CI's log reader knows.
echo "conformance: $passed passed, 0 failed"
