#!/usr/bin/env bash
# Installs Trino (server core + the Iceberg connector plugin) from Maven Central into
# $HOME/.cache/shoplake/trino/<version>/ and finds a Java it can run on (Trino 476 needs
# Java >= 24). Idempotent: a second run only prints the paths. Prints two lines on stdout:
#   TRINO_HOME=<dir>
#   TRINO_JAVA_HOME=<dir>
# Used by the Trino test tier (scripts/test-trino.sh, test/trino/).
set -euo pipefail
VERSION=${TRINO_VERSION:-476}
MAVEN=${MAVEN_CENTRAL_URL:-https://repo1.maven.org/maven2}
CACHE=${SHOPLAKE_CACHE_DIR:-$HOME/.cache/shoplake}/trino
HOME_DIR=$CACHE/trino-server-$VERSION
log() { echo "setup-trino: $*" >&2; }

java_major() { # prints the major version of $1/bin/java, or nothing
  [ -x "$1/bin/java" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1
}
usable_java() { local v; v=$(java_major "$1"); [ -n "$v" ] && [ "$v" -ge 24 ]; }

# Java: an explicit TRINO_JAVA_HOME, then the Temurin 25 JDK these machines carry
# (/usr/lib/jvm/temurin-25-jdk-amd64, installed with the machine image, not by a package),
# then any JDK >= 24 under /usr/lib/jvm, then JAVA_HOME, then Debian's openjdk-25 package
# when the release has one (bookworm does not; trixie does).
find_java() {
  local c
  for c in ${TRINO_JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*24* ${JAVA_HOME:-}; do
    if [ -n "$c" ] && usable_java "$c"; then echo "$c"; return 0; fi
  done
  return 1
}
JAVA_DIR=$(find_java || true)
if [ -z "$JAVA_DIR" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  log "no Java >= 24 found; trying Debian's openjdk-25-jdk-headless"
  apt-get update -qq >/dev/null 2>&1 || true
  if apt-cache show openjdk-25-jdk-headless >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-25-jdk-headless >/dev/null
  fi
  JAVA_DIR=$(find_java || true)
fi
if [ -z "$JAVA_DIR" ]; then
  log "ERROR: Trino $VERSION needs Java >= 24 and none was found (looked at TRINO_JAVA_HOME,"
  log "/usr/lib/jvm/*, JAVA_HOME, and Debian's openjdk-25-jdk-headless). Install a JDK 25 and set"
  log "TRINO_JAVA_HOME to it."
  exit 1
fi

fetch() { # fetch <maven path> <dest>: download once, check Maven Central's SHA-1
  local path=$1 dest=$2
  if [ -f "$dest" ]; then return 0; fi
  log "downloading $MAVEN/$path"
  curl -fsSL --retry 3 -o "$dest.part" "$MAVEN/$path"
  local want got
  want=$(curl -fsSL --retry 3 "$MAVEN/$path.sha1" | cut -c1-40)
  got=$(sha1sum "$dest.part" | cut -c1-40)
  if [ "$want" != "$got" ]; then
    rm -f "$dest.part"
    log "ERROR: SHA-1 mismatch for $path (want $want, got $got)"
    exit 1
  fi
  mv "$dest.part" "$dest"
}

if [ ! -f "$HOME_DIR/.installed" ]; then
  mkdir -p "$CACHE"
  fetch "io/trino/trino-server-core/$VERSION/trino-server-core-$VERSION.tar.gz" "$CACHE/trino-server-core-$VERSION.tar.gz"
  fetch "io/trino/trino-iceberg/$VERSION/trino-iceberg-$VERSION.zip" "$CACHE/trino-iceberg-$VERSION.zip"
  rm -rf "$HOME_DIR.tmp"
  mkdir -p "$HOME_DIR.tmp"
  tar -xzf "$CACHE/trino-server-core-$VERSION.tar.gz" -C "$HOME_DIR.tmp" --strip-components=1
  mkdir -p "$HOME_DIR.tmp/plugin"
  # The plugin zip holds one top-level folder (trino-iceberg-<version>/); Trino wants plugin/iceberg/.
  (cd "$HOME_DIR.tmp/plugin" && python3 -m zipfile -e "$CACHE/trino-iceberg-$VERSION.zip" . \
    && mv "trino-iceberg-$VERSION" iceberg)
  chmod +x "$HOME_DIR.tmp/bin/launcher" "$HOME_DIR.tmp/bin/launcher.py" 2>/dev/null || true
  rm -rf "$HOME_DIR"
  mv "$HOME_DIR.tmp" "$HOME_DIR"
  # The archives are no longer needed once unpacked.
  rm -f "$CACHE/trino-server-core-$VERSION.tar.gz" "$CACHE/trino-iceberg-$VERSION.zip"
  touch "$HOME_DIR/.installed"
  log "Trino $VERSION installed in $HOME_DIR"
fi
echo "TRINO_HOME=$HOME_DIR"
echo "TRINO_JAVA_HOME=$JAVA_DIR"
