#!/usr/bin/env bash
# Start the mock, hold it to the contract, stop it: the steps of .github/workflows/contract.yml,
# runnable on any machine with the project installed (tests/conformance/test_workflow.py runs it).
#   REPORTS_DIR       where the JUnit file, the mock's URL and its log go (default: reports)
#   NEMO_CHECK_ARGS   more `nemo-contract check` flags, e.g. "--phases probes,journey --seed 7"
set -euo pipefail

reports="${REPORTS_DIR:-reports}"
mkdir -p "$reports"
port_file="$reports/mock.url"
rm -f "$port_file"

nemo-mock serve --port 0 --time-scale 0 --quiet --port-file "$port_file" >"$reports/mock.log" 2>&1 &
mock_pid=$!
trap 'kill -INT "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true' EXIT

# The URL file appears, whole, once the mock listens.
for _ in $(seq 300); do
    [ -s "$port_file" ] && break
    if ! kill -0 "$mock_pid" 2>/dev/null; then
        echo "contract-check: the mock exited before listening:" >&2
        cat "$reports/mock.log" >&2
        exit 2
    fi
    sleep 0.1
done
[ -s "$port_file" ] || { echo "contract-check: the mock did not listen within 30 s" >&2; exit 2; }

# shellcheck disable=SC2086  # NEMO_CHECK_ARGS is a list of flags
nemo-contract check --base-url "$(cat "$port_file")" --junit-xml "$reports/contract.xml" ${NEMO_CHECK_ARGS:-}
