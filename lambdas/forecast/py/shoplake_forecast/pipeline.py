"""The model step's entry points (one per task of step-functions/forecast.asl.json):

- `train`: rolling-origin backtest of every model, quality gate, final fit on all data; writes the
  model artifact and `train.json` under `<artifactsUri>/<version>/`.
- `predict`: loads a model artifact and forecasts the 7 days after the history's last day;
  writes `forecasts.json` (rows for gold.demand_forecast) under `<outputUri>`.
"""

from __future__ import annotations

import json
import math
import time

from . import objects
from .model import Params, backtest, dumps_model, gate, loads_model, predict, train_final
from .panel import build_panel, read_history


def _clean(o):
    if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def train(event: dict) -> dict:
    t0 = time.perf_counter()
    params = Params.from_dict(event.get("params") or {})
    version = str(event["version"])
    panel = build_panel(read_history(objects.read(event["historyUri"])))
    t_load = time.perf_counter()
    bt = backtest(panel, params)
    t_bt = time.perf_counter()
    g = gate(bt)
    fitted, fit_seconds = train_final(panel, params)
    artifact = objects.join(event["artifactsUri"], version, "model.pkl")
    objects.write(artifact, dumps_model(fitted, {"category_residual_q": bt["category_residual_q"], "version": version}))
    out = _clean(
        {
            "version": version,
            "kind": "demand-forecast",
            "model": "gbm",
            "params": params.__dict__,
            "artifactUri": artifact,
            "gate": g,
            "backtest": {
                "origins": bt["origins"],
                "metrics": bt["metrics"],
                "horizons_without_actuals": bt["horizons_without_actuals"],
            },
            "quality": panel.quality,
            "gaps": panel.gaps[:50],
            "last_date": panel.last_date.strftime("%Y-%m-%d"),
            "timings": {
                "load_s": round(t_load - t0, 3),
                "backtest_s": round(t_bt - t_load, 3),
                "backtest_fit_s": [round(s, 3) for s in bt["fit_seconds"]],
                "train_s": round(fit_seconds, 3),
                "total_s": round(time.perf_counter() - t0, 3),
            },
        }
    )
    summary_uri = objects.join(event["artifactsUri"], version, "train.json")
    objects.write(summary_uri, json.dumps(out).encode())
    return {**out, "summaryUri": summary_uri}


def predict_step(event: dict) -> dict:
    t0 = time.perf_counter()
    fitted, meta = loads_model(objects.read(event["modelUri"]))
    panel = build_panel(read_history(objects.read(event["historyUri"])))
    rows, summary = predict(panel, fitted, meta, str(event["version"]))
    uri = event["forecastsUri"]
    objects.write(uri, json.dumps(_clean(rows)).encode())
    return _clean(
        {
            **summary,
            "version": event["version"],
            "forecastsUri": uri,
            "quality": panel.quality,
            "gaps": panel.gaps[:50],
            "predict_s": round(time.perf_counter() - t0, 3),
        }
    )


def backtest_only(event: dict) -> dict:
    """Rolling-origin evaluation of every model, side by side (`shoplake forecast backtest`)."""
    t0 = time.perf_counter()
    params = Params.from_dict(event.get("params") or {})
    panel = build_panel(read_history(objects.read(event["historyUri"])))
    bt = backtest(panel, params)
    return _clean(
        {
            "params": params.__dict__,
            "origins": bt["origins"],
            "metrics": bt["metrics"],
            "horizons_without_actuals": bt["horizons_without_actuals"],
            "gate": gate(bt),
            "quality": panel.quality,
            "gaps": panel.gaps[:50],
            "last_date": panel.last_date.strftime("%Y-%m-%d"),
            "seconds": round(time.perf_counter() - t0, 3),
        }
    )


def run(event: dict) -> dict:
    mode = event.get("mode")
    if mode == "train":
        return train(event)
    if mode == "predict":
        return predict_step(event)
    if mode == "backtest":
        return backtest_only(event)
    raise ValueError(f"unknown mode {mode!r}: expected train, predict or backtest")
