#!/usr/bin/env bash
# Installs LocalStack Community (pinned, no Docker, no auth token) and what it downloads at run
# time, from package registries only, into $HOME/.cache/shoplake/localstack-<version>/:
#   - localstack-core[runtime] into a virtualenv (Python >= 3.12), dependencies as of its release;
#   - the host-node Lambda runtime executor plugin (scripts/localstack/host-lambda/);
#   - DynamoDB Local from Maven Central (+ a no-op stand-in for LocalStack's GSI agent jar);
#   - kinesis-local (kinesis-mock's npm build) from npm;
#   - the system JDK linked where LocalStack expects its own Java 11/21.
# Idempotent: a stamp over the inputs makes a rerun a no-op; once cached it needs no network.
set -euo pipefail
source "$(dirname "$0")/env.sh"

inputs_hash() {
  { cat "$LS_SCRIPTS/env.sh" "$LS_SCRIPTS/install.sh" "$LS_SCRIPTS/dynamodb-local/pom.xml" \
      "$LS_SCRIPTS/dynamodb-local/agent/NoopAgent.java" "$LS_SCRIPTS/host-lambda/pyproject.toml" \
      "$LS_SCRIPTS"/host-lambda/shoplake_host_lambda/*; } | sha256sum | cut -c1-16
}
STAMP=$LS_HOME/.installed-$(inputs_hash)
if [ -f "$STAMP" ]; then
  echo "localstack: $LOCALSTACK_VERSION already installed in $LS_HOME"
  exit 0
fi
started=$(date +%s)
mkdir -p "$LS_HOME" "$LS_LIB"

# 1. LocalStack itself.
if [ ! -x "$LS_VENV/bin/python" ]; then
  PY=$(ls_find_python)
  echo "localstack: virtualenv with $("$PY" --version)"
  "$PY" -m venv "$LS_VENV"
fi
"$LS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
export VIRTUAL_ENV=$LS_VENV UV_CACHE_DIR=$SHOPLAKE_CACHE/uv
"$LS_VENV/bin/uv" pip install --quiet --exclude-newer "$LOCALSTACK_EXCLUDE_NEWER" \
  "localstack-core[runtime]==$LOCALSTACK_VERSION"
# The plugin is ours: reinstalled from the checkout (not subject to --exclude-newer).
"$LS_VENV/bin/uv" pip install --quiet --reinstall-package shoplake-host-lambda "$LS_SCRIPTS/host-lambda"

# 2. Java: LocalStack wants Temurin 11 and 21 from GitHub; the system JDK (17+) does.
JAVA_BIN=$(command -v java || true)
if [ -z "$JAVA_BIN" ]; then echo "localstack: needs a JDK >= 17 (java not on PATH)" >&2; exit 1; fi
JDK_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA_BIN")")")
mkdir -p "$LS_LIB/java"
for v in 11 21; do ln -sfn "$JDK_HOME" "$LS_LIB/java/$v"; done

# 3. DynamoDB Local from Maven Central, laid out as LocalStack's installer would leave it:
#    dynamodb-local/2/DynamoDBLocal.jar (runnable: Main-Class + Class-Path) + DynamoDBLocal_lib/.
DDB=$LS_LIB/dynamodb-local/2
rm -rf "$DDB.tmp" && mkdir -p "$DDB.tmp/DynamoDBLocal_lib"
mvn -q -B -Dstyle.color=never -f "$LS_SCRIPTS/dynamodb-local/pom.xml" -Dmaven.repo.local="$SHOPLAKE_CACHE/m2" \
  dependency:copy-dependencies -DoutputDirectory="$DDB.tmp/DynamoDBLocal_lib" -Dmdep.stripVersion=true
work=$(mktemp -d)
{
  echo "Main-Class: com.amazonaws.services.dynamodbv2.local.main.ServerRunner"
  printf 'Class-Path:'
  for jar in "$DDB.tmp"/DynamoDBLocal_lib/*.jar; do printf ' \n DynamoDBLocal_lib/%s' "$(basename "$jar")"; done
  echo
} >"$work/MANIFEST.MF"
mkdir -p "$work/empty"
jar --create --file "$DDB.tmp/DynamoDBLocal.jar" --manifest "$work/MANIFEST.MF" -C "$work/empty" .
# LocalStack adds -javaagent:<dir>/ddb-local-loader-0.1.jar (a GitHub download): a no-op agent.
javac -d "$work/agent" "$LS_SCRIPTS/dynamodb-local/agent/NoopAgent.java"
printf 'Premain-Class: NoopAgent\n' >"$work/agent.MF"
jar --create --file "$DDB.tmp/ddb-local-loader-0.1.jar" --manifest "$work/agent.MF" -C "$work/agent" .
rm -rf "$work" "$DDB" && mv "$DDB.tmp" "$DDB"

# 4. kinesis-mock's npm build where LocalStack's NodePackageInstaller puts it.
KIN=$LS_LIB/kinesis-local/$KINESIS_LOCAL_VERSION
if [ ! -f "$KIN/node_modules/kinesis-local/package.json" ]; then
  mkdir -p "$KIN"
  npm install --silent --no-audit --no-fund --no-save --prefix "$KIN" "kinesis-local@$KINESIS_LOCAL_VERSION"
fi

rm -f "$LS_HOME"/.installed-*
touch "$STAMP"
echo "localstack: $LOCALSTACK_VERSION installed in $LS_HOME in $(($(date +%s) - started)) s"
