#!/usr/bin/env bash
# Installs the demand-forecast model step's Python environment (lambdas/forecast/py/requirements.txt)
# into .venv-forecast. Idempotent (a stamp of the requirements' hash), quick when done; pip's
# wheel cache lives under ~/.cache/shoplake/pip. Called by .ci/run and by the tests that train.
# Python: $FORECAST_PYTHON, else pyenv's 3.12 (the Lambda runtime), else python3 (>= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=lambdas/forecast/py/requirements.txt
VENV=${FORECAST_VENV:-.venv-forecast}
STAMP=$VENV/.installed-$(sha256sum "$REQ" | cut -c1-16)
if [ -f "$STAMP" ]; then exit 0; fi
PY=${FORECAST_PYTHON:-}
if [ -z "$PY" ] && command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12\.' | sort -V | tail -1); do
    PY="$(pyenv root)/versions/$v/bin/python3"
  done
fi
PY=${PY:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "forecast model step needs Python >= 3.10")'
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/shoplake/pip}"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
rm -f "$VENV"/.installed-*
touch "$STAMP"
echo "forecast model environment installed in $VENV ($("$VENV/bin/python" -c 'import lightgbm, sklearn, pandas; print("lightgbm", lightgbm.__version__, "scikit-learn", sklearn.__version__, "pandas", pandas.__version__)'))" >&2
