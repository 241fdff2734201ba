"""Design matrix, models, rolling-origin backtest, training and prediction.

One global model across all product series (category code, level and scale features let it tell
series apart), direct multi-horizon: every training row is (series, origin day, horizon h) with
the target h days after the origin, so one model serves h = 1..7 without feeding forecasts back.
"""

from __future__ import annotations

import math
import pickle
import time
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import HORIZONS, MODELS
from . import metrics as M
from .calendar import event_days
from .panel import SQL_FEATURES, Panel

TARGET_FEATURES = (
    "horizon",
    "target_dow",
    "target_dom",
    "target_month",
    "target_event",
    "event_distance",
    "sn",
    "dow_mean_4",
    "category_code",
)
FEATURES = (*SQL_FEATURES, *TARGET_FEATURES)
LOWER_Q, UPPER_Q = 0.1, 0.9
NEW_PRODUCT_DAYS = 28
STOPPED_DAYS = 56


@dataclass(frozen=True)
class Params:
    seed: int = 42
    country: str = "DE"
    train_days: int = 364
    max_rows: int = 200_000
    # Rows per refit in the rolling-origin backtest (8 refits of 3 boosters each).
    backtest_max_rows: int = 80_000
    trees: int = 150
    learning_rate: float = 0.08
    leaves: int = 63
    # Point booster's objective (a mean, log link): Tweedie with variance power 1.5, between
    # Poisson's 1 and Gamma's 2 like overdispersed counts (NegBin: Var = mu + mu^2/k). Chosen on
    # development origins (the 4 weeks before the backtest's) by squared error, where it beat
    # Poisson on the generated and the UCI history; it forecasts lower than Poisson, see
    # docs/forecasting.md "Accuracy" for the bias this brings. "poisson" remains an option.
    objective: str = "tweedie"
    tweedie_power: float = 1.5
    ridge_alpha: float = 1.0
    origins: int = 8
    threads: int = 2

    @staticmethod
    def from_dict(d: dict) -> Params:
        known = {k: v for k, v in d.items() if k in Params.__dataclass_fields__}
        return Params(**known)


@dataclass
class Design:
    x: pd.DataFrame
    y: np.ndarray  # NaN where the target is unknown (future, gap, no series)
    item: np.ndarray
    origin: np.ndarray
    horizon: np.ndarray


def _event_features(panel: Panel, country: str, extra_days: int = HORIZONS) -> tuple[np.ndarray, np.ndarray]:
    """Per calendar index (history + extra days): is an event day, signed distance to the nearest."""
    n = len(panel.dates) + extra_days
    all_dates = pd.date_range(panel.dates[0], periods=n, freq="D")
    events = event_days(country, range(all_dates[0].year, all_dates[-1].year + 1))
    flag = np.array([1.0 if d.date() in events else 0.0 for d in all_dates])
    dist = np.full(n, 4.0)
    idx = np.flatnonzero(flag)
    for i in range(n):
        if idx.size:
            j = idx[np.argmin(np.abs(idx - i))]
            dist[i] = float(np.clip(j - i, -4, 4))
    return flag, dist


def design(panel: Panel, origins: np.ndarray, params: Params, events: tuple[np.ndarray, np.ndarray]) -> Design:
    """Rows (series x origin x horizon) for the given origin indices; features as of the origin."""
    n_items, n_days = panel.y.shape
    flag, dist = events
    cat_codes = {c: i for i, c in enumerate(sorted(set(panel.categories)))}
    cat = np.array([cat_codes[c] for c in panel.categories], dtype=float)
    frames, ys, items, origs, hs = [], [], [], [], []
    item_ix = np.repeat(np.arange(n_items), len(origins))
    orig_ix = np.tile(origins, n_items)
    base = {c: panel.features[c][item_ix, orig_ix] for c in SQL_FEATURES}
    exists = ~np.isnan(base["units"])
    for h in range(1, HORIZONS + 1):
        t = orig_ix + h
        cols = dict(base)
        cols["horizon"] = np.full(t.shape, float(h))
        target_dates = panel.dates[0] + pd.to_timedelta(t, unit="D")
        cols["target_dow"] = (target_dates.dayofweek + 1).to_numpy(dtype=float)
        cols["target_dom"] = target_dates.day.to_numpy(dtype=float)
        cols["target_month"] = target_dates.month.to_numpy(dtype=float)
        cols["target_event"] = flag[t]
        cols["event_distance"] = dist[t]
        cols["sn"] = panel.y[item_ix, t - 7]
        lags = np.stack([panel.y[item_ix, np.maximum(t - 7 * k, 0)] for k in range(1, 5)])
        lags[:, (t - 28) < 0] = np.nan
        cnt = (~np.isnan(lags)).sum(axis=0)
        cols["dow_mean_4"] = np.where(cnt > 0, np.nansum(lags, axis=0) / np.maximum(cnt, 1), np.nan)
        cols["category_code"] = cat[item_ix]
        y = np.full(t.shape, np.nan)
        inside = t < n_days
        y[inside] = panel.y[item_ix[inside], t[inside]]
        frames.append(pd.DataFrame({k: cols[k][exists] for k in FEATURES}))
        ys.append(y[exists])
        items.append(item_ix[exists])
        origs.append(orig_ix[exists])
        hs.append(np.full(int(exists.sum()), h))
    return Design(
        pd.concat(frames, ignore_index=True),
        np.concatenate(ys),
        np.concatenate(items),
        np.concatenate(origs),
        np.concatenate(hs),
    )


def training_design(panel: Panel, cut: int, params: Params, events, max_rows: int | None = None) -> Design:
    """Rows whose target day is known at `cut` (target index <= cut), sampled to max_rows."""
    limit = params.max_rows if max_rows is None else max_rows
    first = max(28, cut - params.train_days)
    d = design(panel, np.arange(first, cut), params, events)
    keep = (~np.isnan(d.y)) & (d.origin + d.horizon <= cut)
    idx = np.flatnonzero(keep)
    if idx.size > limit:
        rng = np.random.default_rng(params.seed)
        idx = np.sort(rng.choice(idx, limit, replace=False))
    return Design(d.x.iloc[idx].reset_index(drop=True), d.y[idx], d.item[idx], d.origin[idx], d.horizon[idx])


def _lgb_params(params: Params, objective: str, alpha: float | None = None) -> dict:
    p = {
        "objective": objective,
        "learning_rate": params.learning_rate,
        "num_leaves": params.leaves,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "seed": params.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": params.threads,
        "verbosity": -1,
    }
    if alpha is not None:
        p["alpha"] = alpha
    if objective == "tweedie":
        p["tweedie_variance_power"] = params.tweedie_power
    return p


class Fitted:
    """The models fitted on one training window: ridge, and LightGBM point + quantile boosters."""

    def __init__(self, params: Params):
        self.params = params
        self.ridge: Pipeline | None = None
        self.boosters: dict[str, lgb.Booster] = {}
        # Split-conformal residual quantiles per model and horizon (baselines and ridge).
        self.residual_q: dict[str, dict[int, tuple[float, float]]] = {}

    def fit(self, d: Design) -> Fitted:
        numeric = [f for f in FEATURES if f not in ("target_dow", "horizon")]
        self.ridge = Pipeline(
            [
                (
                    "columns",
                    ColumnTransformer(
                        [
                            ("num", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)), ("scale", StandardScaler())]), numeric),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["target_dow", "horizon"]),
                        ]
                    ),
                ),
                ("ridge", Ridge(alpha=self.params.ridge_alpha)),
            ]
        )
        self.ridge.fit(d.x, d.y)
        data = lgb.Dataset(d.x, label=d.y, categorical_feature=["category_code"], free_raw_data=False)
        self.boosters["point"] = lgb.train(_lgb_params(self.params, self.params.objective), data, self.params.trees)
        self.boosters["lower"] = lgb.train(_lgb_params(self.params, "quantile", LOWER_Q), data, self.params.trees)
        self.boosters["upper"] = lgb.train(_lgb_params(self.params, "quantile", UPPER_Q), data, self.params.trees)
        # Residual quantiles of the simpler models on the training window's last 28 origins.
        recent = d.origin >= d.origin.max() - 28
        for model in ("seasonal_naive", "moving_average", "ridge"):
            f = self.point(model, d.x[recent])
            r = d.y[recent] - f
            hq = {}
            for h in range(1, HORIZONS + 1):
                # A horizon without rows (its target weekday is always a gap) borrows all horizons'.
                rh = r[d.horizon[recent] == h]
                rh = rh if rh.size else r
                hq[h] = (float(np.quantile(rh, LOWER_Q)), float(np.quantile(rh, UPPER_Q))) if rh.size else (0.0, 0.0)
            self.residual_q[model] = hq
        return self

    def point(self, model: str, x: pd.DataFrame) -> np.ndarray:
        if model == "seasonal_naive":
            f = x["sn"].to_numpy(dtype=float)
            return np.where(np.isnan(f), x["mean_7"].to_numpy(dtype=float), f)
        if model == "moving_average":
            return x["mean_7"].to_numpy(dtype=float)
        if model == "ridge":
            assert self.ridge is not None
            return np.clip(self.ridge.predict(x), 0, None)
        if model == "gbm":
            return self.boosters["point"].predict(x)
        raise ValueError(f"unknown model {model}")

    def predict(self, model: str, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self.point(model, x)
        if model == "gbm":
            lo = np.clip(self.boosters["lower"].predict(x), 0, None)
            hi = self.boosters["upper"].predict(x)
            return f, np.minimum(lo, f), np.maximum(hi, f)
        h = x["horizon"].to_numpy(dtype=int)
        q = self.residual_q[model]
        qlo = np.array([q[int(k)][0] for k in h])
        qhi = np.array([q[int(k)][1] for k in h])
        return f, np.clip(f + qlo, 0, None), np.clip(f + qhi, 0, None)


def _scale(panel: Panel, cut: int) -> float:
    total, count = 0.0, 0
    y = panel.y[:, : cut + 1]
    a, b = y[:, 7:], y[:, :-7]
    ok = ~np.isnan(a) & ~np.isnan(b)
    total = float(np.abs(a - b)[ok].sum())
    count = int(ok.sum())
    return total / count if count else math.nan


def backtest(panel: Panel, params: Params) -> dict:
    """Rolling origin: the last `origins` weekly origins, each model refitted on data up to it."""
    events = _event_features(panel, params.country)
    n_days = panel.y.shape[1]
    origins = [n_days - 1 - 7 * k for k in range(params.origins, 0, -1)]
    origins = [o for o in origins if o >= 56]
    if not origins:
        raise ValueError(f"history too short for a backtest: {n_days} days (need at least 63)")
    acc: dict[str, dict[int, list[np.ndarray]]] = {m: {h: [] for h in range(1, HORIZONS + 1)} for m in MODELS}
    scales = []
    cat_res: dict[int, list[np.ndarray]] = {h: [] for h in range(1, HORIZONS + 1)}
    cat_acc: dict[str, dict[int, list[np.ndarray]]] = {m: {h: [] for h in range(1, HORIZONS + 1)} for m in MODELS}
    fit_seconds = []
    for o in origins:
        t0 = time.perf_counter()
        fitted = Fitted(params).fit(training_design(panel, o, params, events, params.backtest_max_rows))
        fit_seconds.append(time.perf_counter() - t0)
        d = design(panel, np.array([o]), params, events)
        ok = ~np.isnan(d.y)
        scale = _scale(panel, o)
        scales.append(scale)
        for m in MODELS:
            f, lo, hi = fitted.predict(m, d.x)
            for h in range(1, HORIZONS + 1):
                sel = ok & (d.horizon == h)
                acc[m][h].append(np.stack([d.y[sel], f[sel], lo[sel], hi[sel], np.full(sel.sum(), scale)]))
                # Category level: bottom-up sums of the product forecasts.
                cats = np.array(panel.categories)[d.item[sel]]
                frame = pd.DataFrame({"c": cats, "y": d.y[sel], "f": f[sel]}).groupby("c").sum()
                cat_acc[m][h].append(frame[["y", "f"]].to_numpy().T)
                if m == "gbm":
                    cat_res[h].append(((frame["y"] - frame["f"]) / np.maximum(frame["f"], 1.0)).to_numpy())
    table = []
    for m in MODELS:
        for h in [*range(1, HORIZONS + 1), 0]:
            hs = range(1, HORIZONS + 1) if h == 0 else [h]
            arr = np.concatenate([a for k in hs for a in acc[m][k]], axis=1)
            y, f, lo, hi, sc = arr
            mae_scale = float(np.mean(sc)) if sc.size else math.nan
            carr = np.concatenate([a for k in hs for a in cat_acc[m][k]], axis=1)
            table.append(
                {
                    "model": m,
                    "horizon": "all" if h == 0 else h,
                    "points": int(y.size),
                    "wape": M.wape(y, f),
                    "mase": M.mase(y, f, mae_scale),
                    "rmse": M.rmse(y, f),
                    "bias": M.bias(y, f),
                    "coverage_80": M.coverage(y, lo, hi),
                    "category_wape": M.wape(carr[0], carr[1]),
                }
            )
    # Weekly origins share a weekday, so a horizon's target days do too: in a shop closed on one
    # weekday (the UCI shop has no invoices on Saturdays, a gap and not zero sales) that horizon
    # has no actuals at any origin. Its metrics stay empty (points 0, NULL figures) and are named
    # in `horizons_without_actuals`; its category interval uses the residuals of all horizons.
    residuals = {h: np.concatenate(cat_res[h]) if cat_res[h] else np.empty(0) for h in range(1, HORIZONS + 1)}
    pooled = np.concatenate(list(residuals.values()))
    if pooled.size == 0:
        raise ValueError(
            f"backtest has no actuals at any origin ({', '.join(panel.dates[o].strftime('%Y-%m-%d') for o in origins)}): "
            "every target day is a gap or outside the product series"
        )
    empty = [h for h in range(1, HORIZONS + 1) if residuals[h].size == 0]
    category_q = {
        h: (float(np.quantile(r, LOWER_Q)), float(np.quantile(r, UPPER_Q)))
        for h, r in ((h, residuals[h] if residuals[h].size else pooled) for h in range(1, HORIZONS + 1))
    }
    return {
        "origins": [panel.dates[o].strftime("%Y-%m-%d") for o in origins],
        "metrics": table,
        "category_residual_q": category_q,
        "horizons_without_actuals": [
            {"horizon": h, "weekday": (panel.dates[origins[-1]] + pd.Timedelta(days=h)).day_name()} for h in empty
        ],
        "fit_seconds": fit_seconds,
    }


# The largest backtest bias (sum(f - y) / sum(y), all horizons) a published model may have. WAPE
# and MASE reward forecasting low on intermittent series (their best constant is the median,
# often 0), so beating seasonal naive on WAPE alone would publish a model that under-stocks
# systematically; the generated bench's model is 18 % low and passes, the UCI model 51 % low
# does not (docs/forecasting.md "Accuracy").
MAX_ABS_BIAS = 0.3


def gate(bt: dict, max_abs_bias: float = MAX_ABS_BIAS) -> dict:
    """Publish only if gradient boosting beats seasonal naive on backtest WAPE (all horizons)
    and its bias is within +-max_abs_bias."""
    overall = {r["model"]: r for r in bt["metrics"] if r["horizon"] == "all"}
    g, sn = overall["gbm"]["wape"], overall["seasonal_naive"]["wape"]
    b = overall["gbm"].get("bias")
    reasons = []
    if math.isnan(g) or math.isnan(sn) or not g < sn:
        reasons.append(f"does not beat seasonal naive: gbm WAPE {g:.4f} vs seasonal naive {sn:.4f}")
    if b is not None and not (isinstance(b, float) and math.isnan(b)) and abs(b) > max_abs_bias:
        reasons.append(
            f"backtest bias {b:+.1%} is beyond +-{max_abs_bias:.0%}: it would "
            + ("under" if b < 0 else "over")
            + "-forecast systematically"
        )
    summary = f"gbm WAPE {g:.4f} vs seasonal naive {sn:.4f}" + (f", bias {b:+.1%}" if b is not None else "")
    return {"passed": not reasons, "reasons": reasons, "summary": summary}


def train_final(panel: Panel, params: Params) -> tuple[Fitted, float]:
    events = _event_features(panel, params.country)
    t0 = time.perf_counter()
    fitted = Fitted(params).fit(training_design(panel, panel.y.shape[1] - 1, params, events))
    return fitted, time.perf_counter() - t0


def dumps_model(fitted: Fitted, extra: dict) -> bytes:
    blob = {
        "params": fitted.params.__dict__,
        "ridge": fitted.ridge,
        "boosters": {k: b.model_to_string() for k, b in fitted.boosters.items()},
        "residual_q": fitted.residual_q,
        **extra,
    }
    return pickle.dumps(blob)


def loads_model(data: bytes) -> tuple[Fitted, dict]:
    blob = pickle.loads(data)  # noqa: S301 - our own artifact, written by dumps_model
    fitted = Fitted(Params.from_dict(blob["params"]))
    fitted.ridge = blob["ridge"]
    fitted.boosters = {k: lgb.Booster(model_str=s) for k, s in blob["boosters"].items()}
    fitted.residual_q = {m: {int(h): tuple(v) for h, v in q.items()} for m, q in blob["residual_q"].items()}
    return fitted, blob


def predict(panel: Panel, fitted: Fitted, meta: dict, version: str) -> tuple[list[dict], dict]:
    """Forecasts of every product and category for the 7 days after the last day of data."""
    params = fitted.params
    events = _event_features(panel, params.country)
    origin = panel.y.shape[1] - 1
    d = design(panel, np.array([origin]), params, events)
    f, lo, hi = fitted.predict("gbm", d.x)
    hist = d.x["history_days"].to_numpy()
    mean28 = d.x["mean_28"].to_numpy()
    share = np.nan_to_num(d.x["share_of_category_28"].to_numpy(dtype=float))
    cat7 = np.nan_to_num(d.x["category_mean_7"].to_numpy(dtype=float))
    new = hist < NEW_PRODUCT_DAYS
    stopped = (~new) & (hist >= STOPPED_DAYS) & (mean28 == 0)
    from scipy.stats import poisson  # scikit-learn depends on scipy

    fb = share * cat7
    f = np.where(new, fb, f)
    lo = np.where(new, poisson.ppf(LOWER_Q, np.maximum(fb, 1e-9)), lo)
    hi = np.where(new, poisson.ppf(UPPER_Q, np.maximum(fb, 1e-9)), hi)
    origin_date = panel.dates[origin]
    created = pd.Timestamp.now(tz="UTC").isoformat()
    rows = []
    for i in range(len(f)):
        item = int(d.item[i])
        h = int(d.horizon[i])
        flags = [x for x, on in (("new_product", new[i]), ("stopped", stopped[i])) if on]
        rows.append(
            {
                "level": "product",
                "item_id": panel.items[item],
                "category": panel.categories[item],
                "origin_date": origin_date.strftime("%Y-%m-%d"),
                "forecast_date": (origin_date + pd.Timedelta(days=h)).strftime("%Y-%m-%d"),
                "horizon": h,
                "model_version": version,
                "model": "category_share" if new[i] else "gbm",
                "forecast": round(float(f[i]), 4),
                "lower": round(float(lo[i]), 4),
                "upper": round(float(hi[i]), 4),
                "flags": ",".join(flags) or None,
                "created_at": created,
            }
        )
    # Categories: bottom-up sums, interval from the backtest's category residuals.
    cq = {int(k): v for k, v in (meta.get("category_residual_q") or {}).items()}
    frame = pd.DataFrame(rows).groupby(["category", "horizon", "forecast_date"], as_index=False)["forecast"].sum()
    for r in frame.itertuples(index=False):
        q = cq.get(int(r.horizon), (0.0, 0.0))
        fc = float(r.forecast)
        rows.append(
            {
                "level": "category",
                "item_id": r.category,
                "category": r.category,
                "origin_date": origin_date.strftime("%Y-%m-%d"),
                "forecast_date": r.forecast_date,
                "horizon": int(r.horizon),
                "model_version": version,
                "model": "sum",
                "forecast": round(fc, 4),
                "lower": round(max(0.0, fc + q[0] * max(fc, 1.0)), 4),
                "upper": round(max(fc, fc + q[1] * max(fc, 1.0)), 4),
                "flags": None,
                "created_at": created,
            }
        )
    summary = {
        "origin_date": origin_date.strftime("%Y-%m-%d"),
        "rows": len(rows),
        "new_products": int(new.sum() // HORIZONS),
        "stopped_products": int(stopped.sum() // HORIZONS),
    }
    return rows, summary
