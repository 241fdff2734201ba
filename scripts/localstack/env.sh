# Shared settings of the LocalStack scripts (sourced, not run). Pinned versions and paths.
# shellcheck shell=bash
LOCALSTACK_VERSION=4.14.0
# LocalStack's dependencies are resolved as of its release: a plain resolve pulls newer
# packages that break it (cbor2 6.x: "No module named 'cbor2._decoder'").
LOCALSTACK_EXCLUDE_NEWER=2026-02-27
UV_VERSION=0.13.9
DYNAMODB_LOCAL_VERSION=2.6.1 # also in dynamodb-local/pom.xml
KINESIS_LOCAL_VERSION=0.5.2 # LocalStack 4.14's kinesis-mock version
SHOPLAKE_CACHE=${SHOPLAKE_CACHE:-$HOME/.cache/shoplake}
LS_HOME=$SHOPLAKE_CACHE/localstack-$LOCALSTACK_VERSION
LS_VENV=$LS_HOME/venv
# LocalStack's FILESYSTEM_ROOT: its packages live under var/lib/localstack/lib.
LS_FS=$LS_HOME/fs
LS_LIB=$LS_FS/var/lib/localstack/lib
LS_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Where a started LocalStack keeps its pid, port, log and state (one per checkout).
LS_STATE=${SHOPLAKE_LOCALSTACK_STATE:-$(cd "$LS_SCRIPTS/../.." && pwd)/.shoplake/localstack}

# Python >= 3.12 (LocalStack 4.14 does not run on 3.11): $SHOPLAKE_LOCALSTACK_PYTHON, pyenv's
# newest 3.12/3.13, or python3.13 / python3.12 on PATH.
ls_find_python() {
  if [ -n "${SHOPLAKE_LOCALSTACK_PYTHON:-}" ]; then echo "$SHOPLAKE_LOCALSTACK_PYTHON"; return; fi
  local root
  if root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}; then
    for v in $(ls -d "$root"/versions/3.13.* "$root"/versions/3.12.* 2>/dev/null | sort -rV); do
      if [ -x "$v/bin/python3" ]; then echo "$v/bin/python3"; return; fi
    done
  fi
  for p in python3.13 python3.12 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
      command -v "$p"; return
    fi
  done
  echo "LocalStack $LOCALSTACK_VERSION needs Python >= 3.12 (none found; set SHOPLAKE_LOCALSTACK_PYTHON)" >&2
  return 1
}
