#!/usr/bin/env bash
# Starts LocalStack (installed by install.sh) on the host, without Docker, on 127.0.0.1 and a
# free port; prints `export AWS_ENDPOINT_URL=…` lines to eval. Idempotent: if the LocalStack of
# this checkout is already running and healthy, it prints its settings again.
# State (pid, port, log, LocalStack's tmp/data) lives in $LS_STATE (.shoplake/localstack/).
set -euo pipefail
source "$(dirname "$0")/env.sh"

print_env() {
  local port
  port=$(cat "$LS_STATE/port")
  echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
}
healthy() {
  [ -f "$LS_STATE/port" ] && curl -fsS -m 2 "http://127.0.0.1:$(cat "$LS_STATE/port")/_localstack/health" >/dev/null 2>&1
}
mkdir -p "$LS_STATE"
# One start at a time per checkout (a second waits, then finds the first one running).
exec 9>"$LS_STATE/start.lock"
flock 9
if [ -f "$LS_STATE/pid" ] && kill -0 "$(cat "$LS_STATE/pid")" 2>/dev/null && healthy; then
  print_env
  exit 0
fi
bash "$LS_SCRIPTS/install.sh" >&2

rm -rf "$LS_STATE/fs" && mkdir -p "$LS_STATE/fs"
port=$("$LS_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "$port" >"$LS_STATE/port"
# FILESYSTEM_ROOT is the cache (packages in var/lib/localstack/lib); per-run files go to
# LS_STATE through TMPDIR and LocalStack's own tmp (cleaned above on every start).
# - OVERRIDE_IN_DOCKER=0: it runs on the host; DNS_ADDRESS=0: no DNS server on port 53;
# - DISABLE_EVENTS=1, SKIP_SSL_CERT_DOWNLOAD=1: no calls home, no certificate download;
# - LAMBDA_RUNTIME_EXECUTOR=host-node: our plugin runs Node.js handlers as host processes;
# - LAMBDA_KEEPALIVE_MS keeps a warm handler process for a minute, not ten.
(
  cd "$LS_STATE"
  exec env OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$LS_FS" TMPDIR="$LS_STATE/fs" \
    GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" \
    DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 DNS_ADDRESS=0 \
    LAMBDA_RUNTIME_EXECUTOR=host-node LAMBDA_KEEPALIVE_MS=60000 \
    EAGER_SERVICE_LOADING=0 PERSISTENCE=0 \
    setsid "$LS_VENV/bin/python" -m localstack.runtime.main >"$LS_STATE/localstack.log" 2>&1 9>&- &
  echo $! >"$LS_STATE/pid"
)
for _ in $(seq 1 120); do
  if healthy; then
    echo "localstack: ready on 127.0.0.1:$port (pid $(cat "$LS_STATE/pid"), log $LS_STATE/localstack.log)" >&2
    print_env
    exit 0
  fi
  if ! kill -0 "$(cat "$LS_STATE/pid")" 2>/dev/null; then
    echo "localstack: exited during startup; last lines of $LS_STATE/localstack.log:" >&2
    tail -30 "$LS_STATE/localstack.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "localstack: not ready after 60 s; see $LS_STATE/localstack.log" >&2
exit 1
