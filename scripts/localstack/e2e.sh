#!/usr/bin/env bash
# The LocalStack deploy tier (`npm run test:localstack`, run by .ci/run):
#   1. install (cached) and start LocalStack on the host (unless one of this checkout runs);
#   2. synthesize the CDK app once for a uniquely named copy of the dev stage
#      (-c stageSuffix=e<random>, -c destroyOnRemoval=true so `cdk destroy` removes its data);
#   3. `cdk bootstrap` and `cdk deploy --all` with the pinned CDK CLI against LocalStack;
#   4. run test/localstack/ on the deployed stacks;
#   5. `cdk destroy --all`, and stop LocalStack if this script started it.
# Prints the phase timings and LocalStack's peak RSS. Exit status: the tests' (or the first
# failing phase's).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/localstack/env.sh

t0=$(date +%s)
phase() { echo "localstack e2e: $1 ($(($(date +%s) - t0)) s)" >&2; }

bash scripts/localstack/install.sh
phase "installed"
started_here=0
if ! { [ -f "$LS_STATE/pid" ] && kill -0 "$(cat "$LS_STATE/pid")" 2>/dev/null; }; then started_here=1; fi
endpoint_env=$(bash scripts/localstack/start.sh)
eval "$endpoint_env"
phase "LocalStack ready at $AWS_ENDPOINT_URL"

suffix=${SHOPLAKE_E2E_SUFFIX:-e$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
stage=dev-$suffix
out=$LS_STATE/run-$suffix
mkdir -p "$out"

# Peak RSS of LocalStack's process tree (LocalStack, DynamoDB Local, kinesis-mock, the host
# Lambda processes), sampled every 2 s.
root_pid=$(cat "$LS_STATE/pid")
tree_rss_kb() {
  ps -eo pid=,ppid=,rss= | awk -v root="$1" '
    { parent[$1] = $2; rss[$1] = $3 }
    END {
      for (p in parent) { q = p; while (q != "" && q != root && q in parent && q != parent[q]) q = parent[q]; if (q == root) s += rss[p] }
      print s + 0
    }'
}
(
  peak=0
  while kill -0 "$root_pid" 2>/dev/null; do
    rss=$(tree_rss_kb "$root_pid")
    if [ "$rss" -gt "$peak" ]; then peak=$rss; echo "$peak" >"$out/peak-rss-kb"; fi
    sleep 2
  done
) &
sampler=$!

cdk() { npx --no-install cdk "$@"; }
destroyed=0
cleanup() {
  local status=$?
  if [ "$destroyed" = 0 ] && [ -d "$out/cdk.out" ]; then
    cdk destroy --app "$out/cdk.out" --all --force >"$out/destroy.log" 2>&1 ||
      { echo "localstack e2e: cdk destroy failed, see $out/destroy.log" >&2; status=1; }
    phase "destroyed"
  fi
  kill "$sampler" 2>/dev/null || true
  echo "localstack e2e: LocalStack peak RSS $(($(cat "$out/peak-rss-kb" 2>/dev/null || echo 0) / 1024)) MiB" >&2
  if [ "$started_here" = 1 ] && [ -z "${SHOPLAKE_LOCALSTACK_KEEP:-}" ]; then bash scripts/localstack/stop.sh; fi
  exit "$status"
}
trap cleanup EXIT

ctx=(-c stage=dev -c "stageSuffix=$suffix" -c destroyOnRemoval=true)
cdk synth "${ctx[@]}" --quiet -o "$out/cdk.out" >"$out/synth.log" 2>&1 ||
  { tail -30 "$out/synth.log" >&2; exit 1; }
phase "synthesized $stage"
cdk bootstrap --app "$out/cdk.out" aws://000000000000/us-east-1 >"$out/bootstrap.log" 2>&1 ||
  { tail -30 "$out/bootstrap.log" >&2; exit 1; }
phase "bootstrapped"
cdk deploy --app "$out/cdk.out" --all --require-approval never --concurrency 2 \
  --outputs-file "$out/outputs.json" >"$out/deploy.log" 2>&1 ||
  { tail -40 "$out/deploy.log" >&2; exit 1; }
phase "deployed all stacks of $stage"
SHOPLAKE_E2E_STAGE=$stage npx --no-install vitest run --config vitest.localstack.config.ts "$@"
phase "tests passed"
cdk destroy --app "$out/cdk.out" --all --force >"$out/destroy.log" 2>&1 ||
  { tail -30 "$out/destroy.log" >&2; exit 1; }
destroyed=1
phase "destroyed"
