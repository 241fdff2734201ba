"""The history as a dense panel: one row per product series, one column per calendar day.

A cell is NaN when the lake has no row for it: before the product's first sale, or on a gap
(a day the lake holds no data at all). Gaps are detected here (calendar days between the first
and last day that no series has) and reported; they are never read as zero sales.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Columns of athena/forecast_history_export.sql used as model features (as of the origin day).
SQL_FEATURES = (
    "units",
    "lag_1",
    "lag_7",
    "lag_14",
    "lag_28",
    "mean_7",
    "mean_14",
    "mean_28",
    "std_7",
    "std_14",
    "std_28",
    "day_of_week",
    "avg_price",
    "price_ratio",
    "discount_share",
    "history_days",
    "days_28",
    "category_units",
    "category_mean_7",
    "category_mean_28",
    "share_of_category_28",
)


class HistoryError(ValueError):
    """The exported history cannot be used (empty, missing columns)."""


@dataclass
class Panel:
    dates: pd.DatetimeIndex
    items: list[str]
    categories: list[str]
    # Net units (NaN = no row), n_items x n_dates, after clipping negatives and capping outliers.
    y: np.ndarray
    features: dict[str, np.ndarray]
    gaps: list[str]
    # Category series (sum of net units, NaN on gaps), n_categories x n_dates.
    category_names: list[str]
    category_y: np.ndarray
    quality: dict[str, int] = field(default_factory=dict)

    @property
    def last_date(self) -> pd.Timestamp:
        return self.dates[-1]


def read_history(data: bytes | str) -> pd.DataFrame:
    """Reads the export CSV (Athena's result format: header + quoted values)."""
    buf = io.BytesIO(data) if isinstance(data, bytes) else data
    df = pd.read_csv(buf, dtype={"item_id": str, "category": str, "level": str})
    missing = [c for c in ("level", "item_id", "category", "feature_date", *SQL_FEATURES) if c not in df.columns]
    if missing:
        raise HistoryError(f"history export lacks columns {missing}")
    if df.empty:
        raise HistoryError("history export is empty: run the ETL first (gold.demand_features has no rows)")
    df["feature_date"] = pd.to_datetime(df["feature_date"])
    return df


def cap_outliers(y: np.ndarray, factor: float = 3.0, floor: float = 5.0) -> tuple[np.ndarray, int]:
    """Caps each series at max(floor, factor x its 99th percentile); returns the count capped."""
    with np.errstate(all="ignore"):
        q = np.nanpercentile(np.where(np.isnan(y), np.nan, y), 99, axis=1)
    q = np.where(np.isnan(q), 0.0, q)
    cap = np.maximum(floor, factor * q)[:, None]
    over = (y > cap) & ~np.isnan(y)
    return np.where(over, cap, y), int(over.sum())


def build_panel(df: pd.DataFrame) -> Panel:
    prod = df[df["level"] == "product"]
    if prod.empty:
        raise HistoryError("history export has no product series")
    first, last = df["feature_date"].min(), df["feature_date"].max()
    dates = pd.date_range(first, last, freq="D")
    present = set(df["feature_date"].unique())
    gaps = [d.strftime("%Y-%m-%d") for d in dates if d not in present]
    items = sorted(prod["item_id"].unique())
    item_ix = {p: i for i, p in enumerate(items)}
    cats = prod.groupby("item_id")["category"].last()
    categories = [str(cats.loc[p]) for p in items]
    r = prod["item_id"].map(item_ix).to_numpy()
    c = ((prod["feature_date"] - first).dt.days).to_numpy()
    shape = (len(items), len(dates))
    feats: dict[str, np.ndarray] = {}
    for col in SQL_FEATURES:
        m = np.full(shape, np.nan)
        m[r, c] = pd.to_numeric(prod[col], errors="coerce").to_numpy(dtype=float)
        feats[col] = m
    raw = feats["units"].copy()
    negative = int((raw < 0).sum())
    y = np.where(raw < 0, 0.0, raw)
    y, capped = cap_outliers(y)
    cat_rows = df[df["level"] == "category"]
    category_names = sorted(cat_rows["item_id"].unique()) if not cat_rows.empty else sorted(set(categories))
    cy = np.full((len(category_names), len(dates)), np.nan)
    if not cat_rows.empty:
        ci = {k: i for i, k in enumerate(category_names)}
        cy[cat_rows["item_id"].map(ci).to_numpy(), ((cat_rows["feature_date"] - first).dt.days).to_numpy()] = (
            pd.to_numeric(cat_rows["units"], errors="coerce").clip(lower=0).to_numpy(dtype=float)
        )
    quality = {
        "series": len(items),
        "days": len(dates),
        "gap_days": len(gaps),
        "negative_net_days": negative,
        "capped_outliers": capped,
    }
    return Panel(dates, items, categories, y, feats, gaps, category_names, cy, quality)
