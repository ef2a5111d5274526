#!/usr/bin/env bash
# scripts/demo as an operator runs it, on the test build's binaries:
#   1. it takes its ports and data folder from flags (port 0: any free one),
#      and finishes a short run with the node's figures;
#   2. when the node dies mid-run, it stops at once (long before the load
#      generator's run would end), exits non-zero, and shows the node's
#      last log lines.
# Usage: demo_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
export SWITCHBOARD_DEMO_BUILD_DIR=$2
work=$(mktemp -d)
demo_pid=""
cleanup() {
  [ -n "$demo_pid" ] && kill -TERM "$demo_pid" 2>/dev/null || true
  pkill -KILL -f -- "--data-dir $work/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*" >&2
  echo "--- demo output:" >&2
  cat "$work/out" >&2 || true
  exit 1
}

# 1. A whole (short) run on ports of its own.
if ! "$source_dir/scripts/demo" --grpc-port 0 --metrics-port 0 --web-port 0 \
    --data-dir "$work/run1" --duration 4 --drain 5 >"$work/out" 2>&1; then
  fail "a short demo run did not succeed"
fi
grep -q '"msg":"serving"' "$work/out" || fail "no serving line"
grep -q "grpc is plain and unauthenticated" "$work/out" \
  || fail "the demo did not show the node's warning about plain gRPC"
# Options after the demo's own go to the load generator and win.
grep -q "calls/s for 4 s" "$work/out" \
  || fail "--duration 4 given to the demo did not reach the load generator"
grep -q '"grpc":"127.0.0.1:7400"' "$work/out" \
  && fail "port 0 was asked for, but the default port 7400 was used"
grep -q "== switchboard stats queue sales --tenant contoso" "$work/out" \
  || fail "the demo did not reach its figures"
[ -d "$work/run1/data" ] || fail "the data folder given was not used"
grep -q "== the app: http://127.0.0.1:[0-9]*/supervisor?tenant=contoso" "$work/out" \
  || fail "the demo did not print the app's address"
grep -q '"msg":"serving".*"sign_in":"demo"' "$work/run1/web.log" \
  || fail "the app was not served with the demo sign-in"
grep -q "== node stopped" "$work/out" || fail "the node was not stopped"

# 2. The node dies mid-run.
"$source_dir/scripts/demo" --grpc-port 0 --metrics-port 0 --web-port 0 \
  --data-dir "$work/run2" --duration 120 >"$work/out" 2>&1 &
demo_pid=$!
router=""
for _ in $(seq 1 300); do
  if grep -q "driving traffic" "$work/out" 2>/dev/null; then
    router=$(pgrep -f -- "--data-dir $work/run2/data" || true)
    [ -n "$router" ] && break
  fi
  kill -0 "$demo_pid" 2>/dev/null || fail "the demo ended before traffic"
  sleep 0.1
done
[ -n "$router" ] || fail "no router process found for the demo"
sleep 2
kill -KILL $router
started=$SECONDS
status=0
wait "$demo_pid" || status=$?
demo_pid=""
took=$((SECONDS - started))
[ "$status" -ne 0 ] || fail "the demo exited 0 although its node died"
# Its run was 120 s: ending within a minute means it noticed the death.
[ "$took" -lt 60 ] || fail "the demo took ${took} s to notice the node's death"
grep -q "switchboard-router stopped unexpectedly" "$work/out" \
  || fail "the demo did not say the node stopped"
grep -q "its last log lines" "$work/out" || fail "no log lines shown"
grep -q '"msg":"serving"' <(sed -n '/its last log lines/,$p' "$work/out") \
  || fail "the node's last log lines are not shown"
# 3. SIP callers through the gateway (scripts/demo --sip).
if ! "$source_dir/scripts/demo" --sip --grpc-port 0 --metrics-port 0 --web-port 0 \
    --sip-port 0 --data-dir "$work/run3" --calls 6 --call-rate 3 \
    --talk-ms 500 >"$work/out" 2>&1; then
  fail "demo --sip did not succeed"
fi
grep -q "== result: all 6 SIP calls reached an agent" "$work/out" \
  || fail "demo --sip did not report its 6 calls answered"
grep -q "^  answered           6" "$work/out" \
  || fail "the engine did not count 6 answered calls"

echo "demo: a short run finished on free ports; a node's death was noticed in ${took} s (exit $status)"
