"""Forecast accuracy metrics, pooled over series (docs/forecasting.md, "Metrics").

- WAPE: sum |y - f| / sum y.
- MASE: mean |y - f| / mean |y_t - y_{t-7}|, the denominator being the in-sample seasonal-naive
  error of the same series over their training history (pooled), so a MASE below 1 beats what
  seasonal naive achieved in sample.
- bias: sum (f - y) / sum y (positive = over-forecast).
- RMSE: sqrt(mean (y - f)^2), in units. WAPE and MASE are absolute errors, minimised by the
  median, which is 0 for an intermittent series: a forecast biased low can win on them. RMSE is
  minimised by the mean, so it is reported beside them (docs/forecasting.md, "Accuracy").
- coverage: share of actuals inside [lower, upper] (bounds included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def wape(y: Sequence[float], f: Sequence[float]) -> float:
    total = float(sum(y))
    err = float(sum(abs(a - b) for a, b in zip(y, f, strict=True)))
    return err / total if total > 0 else math.nan


def bias(y: Sequence[float], f: Sequence[float]) -> float:
    total = float(sum(y))
    return float(sum(b - a for a, b in zip(y, f, strict=True))) / total if total > 0 else math.nan


def rmse(y: Sequence[float], f: Sequence[float]) -> float:
    if len(y) == 0:
        return math.nan
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(y, f, strict=True)) / len(y))


def mase(y: Sequence[float], f: Sequence[float], scale: float) -> float:
    if len(y) == 0 or not scale > 0:
        return math.nan
    return float(sum(abs(a - b) for a, b in zip(y, f, strict=True))) / len(y) / scale


def coverage(y: Sequence[float], lower: Sequence[float], upper: Sequence[float]) -> float:
    if len(y) == 0:
        return math.nan
    inside = sum(1 for a, lo, hi in zip(y, lower, upper, strict=True) if lo <= a <= hi)
    return inside / len(y)


def seasonal_scale(series: Sequence[float], season: int = 7) -> tuple[float, int]:
    """Sum and count of |y_t - y_{t-season}| over one series (pooled into the MASE scale)."""
    diffs = [abs(series[i] - series[i - season]) for i in range(season, len(series))]
    return float(sum(diffs)), len(diffs)
