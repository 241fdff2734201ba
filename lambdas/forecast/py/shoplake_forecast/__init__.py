"""shoplake demand forecasting: the model step of step-functions/forecast.asl.json.

Reads the features gold.demand_features holds (exported by athena/forecast_history_export.sql),
evaluates baselines and models by rolling-origin backtest, trains one global gradient-boosted
model (LightGBM) for direct 1..7-day horizons with 80 % intervals, and predicts. The same code
runs locally (from .venv-forecast, `python -m shoplake_forecast`) and on AWS (handler.py).
"""

import os

# LightGBM's OpenMP threads busy-wait by default; on a shared or loaded machine (CI, the 2-core
# boxes these run on) that makes two threads 10x slower than one. Passive waiting fixes it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HORIZONS = 7
MODELS = ("seasonal_naive", "moving_average", "ridge", "gbm")
