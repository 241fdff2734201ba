#!/usr/bin/env bash
# Installs what the Glue jobs (glue-jobs/) need to run locally, as on AWS Glue 5.0 (Spark 3.5,
# Iceberg 1.10, Java 17), plus the PostgreSQL server the tests start their own cluster of:
#   - pyspark 3.5 (+ pytest) from PyPI into a venv of its own: ~/.cache/shoplake/spark/venv
#   - org.apache.iceberg:iceberg-spark-runtime-3.5_2.12 and org.postgresql:postgresql JDBC
#     jars from Maven Central into ~/.cache/shoplake/spark/jars (checked against Maven's sha1)
#   - Debian's `postgresql` package (apt-get) when `dpkg -l postgresql` says it is missing.
# Idempotent: a second run only checks and prints the paths. Prints on stdout:
#   SHOPLAKE_SPARK_PYTHON=<venv python>
#   SHOPLAKE_SPARK_JARS=<jar>,<jar>
#   SHOPLAKE_PG_BIN=<dir with initdb/pg_ctl>
# Used by .ci/run, test/spark/ and `shoplake etl --oltp postgres://...`.
set -euo pipefail
cd "$(dirname "$0")/.."
ICEBERG_VERSION=${ICEBERG_VERSION:-1.10.0}
PG_JDBC_VERSION=${PG_JDBC_VERSION:-42.7.7}
MAVEN=${MAVEN_CENTRAL_URL:-https://repo1.maven.org/maven2}
CACHE=${SHOPLAKE_CACHE_DIR:-$HOME/.cache/shoplake}/spark
REQ=glue-jobs/requirements-local.txt
log() { echo "setup-spark-pg: $*" >&2; }
mkdir -p "$CACHE/jars"

# --- Java (Glue 5.0 runs Java 17; Spark 3.5 supports 8/11/17) ---
if ! command -v java >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "no java: installing Debian's openjdk-17-jre-headless"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    log "FAILED: no java on PATH (Spark 3.5 needs Java 17) and cannot apt-get install it"; exit 1
  fi
fi

# --- pyspark venv ---
STAMP="$CACHE/venv/.installed-$(sha256sum "$REQ" | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  log "installing $(grep -v '^#' "$REQ" | xargs) into $CACHE/venv (pyspark builds a wheel: ~2 min)"
  [ -x "$CACHE/venv/bin/python" ] || python3 -m venv "$CACHE/venv"
  "$CACHE/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$CACHE/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  rm -f "$CACHE"/venv/.installed-*
  touch "$STAMP"
fi

# --- jars from Maven Central ---
fetch_jar() { # group artifact version
  local path="${1//.//}/$2/$3/$2-$3.jar" out="$CACHE/jars/$2-$3.jar"
  if [ ! -s "$out" ]; then
    log "downloading $2-$3.jar from Maven Central"
    curl -fsSL --retry 3 -o "$out.part" "$MAVEN/$path"
    local want got
    want=$(curl -fsSL --retry 3 "$MAVEN/$path.sha1" | cut -c1-40)
    got=$(sha1sum "$out.part" | cut -c1-40)
    if [ "$want" != "$got" ]; then rm -f "$out.part"; log "FAILED: sha1 mismatch for $2-$3.jar"; exit 1; fi
    mv "$out.part" "$out"
  fi
  echo "$out"
}
ICEBERG_JAR=$(fetch_jar org.apache.iceberg iceberg-spark-runtime-3.5_2.12 "$ICEBERG_VERSION")
PG_JAR=$(fetch_jar org.postgresql postgresql "$PG_JDBC_VERSION")

# --- PostgreSQL server binaries ---
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if ! dpkg -l postgresql 2>/dev/null | grep -q '^ii' || [ -z "$(pg_bin)" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing Debian's postgresql"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    log "FAILED: PostgreSQL server is not installed (dpkg -l postgresql) and cannot apt-get install it"; exit 1
  fi
fi
PG_BIN=$(pg_bin)
[ -x "$PG_BIN/initdb" ] || { log "FAILED: no initdb under /usr/lib/postgresql/*/bin"; exit 1; }

echo "SHOPLAKE_SPARK_PYTHON=$CACHE/venv/bin/python"
echo "SHOPLAKE_SPARK_JARS=$ICEBERG_JAR,$PG_JAR"
echo "SHOPLAKE_PG_BIN=$PG_BIN"
