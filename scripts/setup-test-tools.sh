#!/usr/bin/env bash
# Installs the test tooling that only exists in Python (cfn-lint, pyiceberg) into .venv, and the
# forecast model step's environment (scripts/setup-forecast.sh).
# Idempotent and quick when already installed; called by `npm test` (pretest) and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demand-forecast model step's own environment (.venv-forecast; idempotent, quick when done).
bash scripts/setup-forecast.sh
REQ=scripts/requirements-test.txt
STAMP=.venv/.installed-$(sha256sum "$REQ" | cut -c1-16)
if [ -f "$STAMP" ]; then exit 0; fi
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ"
rm -f .venv/.installed-*
touch "$STAMP"
echo "test tools installed in .venv ($(.venv/bin/cfn-lint --version 2>/dev/null || true))" >&2
