#!/usr/bin/env bash
# Stops the LocalStack started by start.sh (its whole process group: DynamoDB Local, kinesis-mock
# and host Lambda processes included). A no-op when none is running.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ -f "$LS_STATE/pid" ] || exit 0
pid=$(cat "$LS_STATE/pid")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  echo "localstack: stopped (pid $pid)" >&2
fi
rm -f "$LS_STATE/pid"
