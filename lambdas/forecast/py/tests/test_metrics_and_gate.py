"""Backtest metrics on a hand-computed case, the quality gate refusing a model that loses to
seasonal naive, and determinism for a seed. Run: .venv-forecast/bin/python -m unittest discover
-s lambdas/forecast/py/tests -t lambdas/forecast/py (test/unit/forecast-python.test.ts does)."""

import math
import unittest

import numpy as np
import pandas as pd

from shoplake_forecast import metrics as M
from shoplake_forecast.model import Params, backtest, gate, predict, train_final
from shoplake_forecast.panel import SQL_FEATURES, build_panel, cap_outliers


class HandComputedMetrics(unittest.TestCase):
    # y = [4, 0, 2, 6], f = [3, 1, 2, 8]: |e| = [1, 1, 0, 2] (sum 4), sum y = 12, f - y = [-1, 1, 0, 2].
    y = [4.0, 0.0, 2.0, 6.0]
    f = [3.0, 1.0, 2.0, 8.0]

    def test_wape(self):
        self.assertAlmostEqual(M.wape(self.y, self.f), 4 / 12)

    def test_bias(self):
        self.assertAlmostEqual(M.bias(self.y, self.f), 2 / 12)

    def test_rmse(self):
        # squared errors [1, 1, 0, 4]: mean 1.5.
        self.assertAlmostEqual(M.rmse(self.y, self.f), math.sqrt(1.5))
        self.assertTrue(math.isnan(M.rmse([], [])))

    def test_mase(self):
        # MAE 1.0 scaled by an in-sample seasonal-naive MAE of 0.5 → 2.0.
        self.assertAlmostEqual(M.mase(self.y, self.f, 0.5), 2.0)
        # The scale of one series with season 2: |[1,5,2,6] - shifted| = |2-1|, |6-5| → sum 2, count 2.
        self.assertEqual(M.seasonal_scale([1.0, 5.0, 2.0, 6.0], season=2), (2.0, 2))

    def test_coverage_includes_bounds(self):
        self.assertAlmostEqual(M.coverage(self.y, [3, 0, 3, 6], [4, 1, 5, 7]), 3 / 4)

    def test_empty_and_zero_demand(self):
        self.assertTrue(math.isnan(M.wape([0.0], [1.0])))
        self.assertTrue(math.isnan(M.coverage([], [], [])))

    def test_outliers_capped_and_counted(self):
        y = np.array([[1.0] * 99 + [500.0], [2.0] * 100])
        capped, n = cap_outliers(y)
        self.assertEqual(n, 1)
        self.assertLess(capped[0, -1], 500.0)
        self.assertTrue(np.array_equal(capped[1], y[1]))


def weekly_history(days=126, items=6, noise=0.0, seed=0, closed_weekday=None) -> pd.DataFrame:
    """Product series with an exact weekly pattern (seasonal naive is perfect without noise),
    features computed the way athena/etl_63 does (calendar windows). `closed_weekday` (0 = Monday)
    leaves that weekday out of the lake entirely: a gap every week, as Saturdays in the UCI shop."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05")
    rows = []
    for i in range(items):
        pattern = np.array([2, 3, 4, 5, 8, 12, 1]) * (i + 1)
        units = np.array([pattern[d % 7] for d in range(days)], dtype=float)
        if noise:
            units = np.maximum(0, units + rng.normal(0, noise * units.mean(), days)).round()
        if closed_weekday is not None:
            closed = np.array([(start + pd.Timedelta(days=d)).dayofweek == closed_weekday for d in range(days)])
            units[closed] = np.nan
        s = pd.Series(units)
        for d in range(days):
            if np.isnan(units[d]):
                continue
            lag = lambda k: units[d - k] if d - k >= 0 else np.nan  # noqa: E731
            w = lambda n: s.iloc[max(0, d - n + 1) : d + 1]  # noqa: E731
            rows.append(
                {
                    "level": "product",
                    "item_id": f"p{i}",
                    "category": "A" if i % 2 else "B",
                    "feature_date": (start + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d"),
                    "units": units[d],
                    "lag_1": lag(1),
                    "lag_7": lag(7),
                    "lag_14": lag(14),
                    "lag_28": lag(28),
                    "mean_7": w(7).mean(),  # pandas skips NaN (gaps) like the SQL windows
                    "mean_14": w(14).mean(),
                    "mean_28": w(28).mean(),
                    "std_7": w(7).std(),
                    "std_14": w(14).std(),
                    "std_28": w(28).std(),
                    "day_of_week": (start + pd.Timedelta(days=int(d))).dayofweek + 1,
                    "avg_price": 10.0,
                    "price_ratio": 1.0,
                    "discount_share": 0.0,
                    "history_days": d,
                    "days_28": int(w(28).notna().sum()),
                    "category_units": np.nan,
                    "category_mean_7": np.nan,
                    "category_mean_28": np.nan,
                    "share_of_category_28": np.nan,
                }
            )
    df = pd.DataFrame(rows)
    df["feature_date"] = pd.to_datetime(df["feature_date"])
    assert set(SQL_FEATURES) <= set(df.columns)
    return df


SMALL = {"trees": 20, "origins": 3, "max_rows": 5000, "backtest_max_rows": 5000, "train_days": 80}


class GateAndDeterminism(unittest.TestCase):
    def test_gate_refuses_a_model_that_does_not_beat_seasonal_naive(self):
        # Exactly periodic demand: seasonal naive is perfect (WAPE 0), nothing can beat it.
        bt = backtest(build_panel(weekly_history()), Params.from_dict(SMALL))
        overall = {r["model"]: r for r in bt["metrics"] if r["horizon"] == "all"}
        self.assertEqual(overall["seasonal_naive"]["wape"], 0.0)
        g = gate(bt)
        self.assertFalse(g["passed"])
        self.assertIn("does not beat seasonal naive", g["reasons"][0])

    def test_gate_passes_a_winning_model(self):
        bt = {
            "metrics": [
                {"model": "gbm", "horizon": "all", "wape": 0.5},
                {"model": "seasonal_naive", "horizon": "all", "wape": 0.7},
            ]
        }
        self.assertTrue(gate(bt)["passed"])

    def test_gate_refuses_a_model_that_wins_on_wape_by_forecasting_low(self):
        metrics = [
            {"model": "gbm", "horizon": "all", "wape": 0.5, "bias": -0.51},
            {"model": "seasonal_naive", "horizon": "all", "wape": 0.7, "bias": 0.0},
        ]
        g = gate({"metrics": metrics})
        self.assertFalse(g["passed"])
        self.assertEqual(len(g["reasons"]), 1)
        self.assertIn("bias -51.0% is beyond +-30%", g["reasons"][0])
        self.assertIn("under-forecast", g["reasons"][0])
        metrics[0]["bias"] = -0.18
        self.assertTrue(gate({"metrics": metrics})["passed"])
        self.assertFalse(gate({"metrics": metrics}, max_abs_bias=0.1)["passed"])

    def test_backtest_is_deterministic_for_a_seed(self):
        panel = build_panel(weekly_history(noise=0.3, seed=4))
        a = backtest(panel, Params.from_dict({**SMALL, "seed": 7}))
        b = backtest(panel, Params.from_dict({**SMALL, "seed": 7}))
        self.assertEqual(a["metrics"], b["metrics"])
        self.assertEqual(len(a["origins"]), 3)


class WeeklyClosedDay(unittest.TestCase):
    """Regression: the UCI backtest crashed with `IndexError: index -1 is out of bounds` because
    weekly origins share a weekday, so horizon 1 always targeted the shop's closed day (a gap) and
    the category residual quantile of that horizon was taken over an empty array."""

    def setUp(self):
        # 126 days from Monday 2026-01-05: the last day and every weekly origin are Sundays, so
        # h = 1 always targets a Monday, which is closed.
        self.panel = build_panel(weekly_history(noise=0.3, seed=5, closed_weekday=0))
        self.assertEqual(self.panel.dates[-1].day_name(), "Sunday")
        self.assertEqual(len(self.panel.gaps), 17)

    def test_backtest_reports_a_horizon_without_actuals_instead_of_crashing(self):
        bt = backtest(self.panel, Params.from_dict(SMALL))
        self.assertEqual(bt["horizons_without_actuals"], [{"horizon": 1, "weekday": "Monday"}])
        rows = {(r["model"], r["horizon"]): r for r in bt["metrics"]}
        for m in ("gbm", "seasonal_naive", "moving_average", "ridge"):
            self.assertEqual(rows[(m, 1)]["points"], 0)
            self.assertTrue(math.isnan(rows[(m, 1)]["wape"]))
            self.assertGreater(rows[(m, 2)]["points"], 0)
            self.assertFalse(math.isnan(rows[(m, 2)]["wape"]))
            # "all" pools the horizons that have actuals: 6 horizons x 6 series x 3 origins.
            self.assertEqual(rows[(m, "all")]["points"], 6 * 6 * 3)
        # Every horizon gets a category interval; h = 1 borrows the residuals of all horizons.
        self.assertEqual(sorted(bt["category_residual_q"]), list(range(1, 8)))
        lo, hi = bt["category_residual_q"][1]
        self.assertLess(lo, hi)

    def test_train_and_predict_cover_the_closed_weekday(self):
        params = Params.from_dict(SMALL)
        bt = backtest(self.panel, params)
        fitted, _ = train_final(self.panel, params)
        # The baselines' conformal intervals for h = 1 are not zero-width (borrowed, not 0).
        lo, hi = fitted.residual_q["seasonal_naive"][1]
        self.assertLess(lo, hi)
        rows, summary = predict(self.panel, fitted, {"category_residual_q": bt["category_residual_q"]}, "t")
        self.assertEqual(summary["origin_date"], "2026-05-10")
        monday = [r for r in rows if r["horizon"] == 1 and r["level"] == "category"]
        self.assertEqual(len(monday), 2)
        for r in monday:
            self.assertLess(r["lower"], r["upper"])


if __name__ == "__main__":
    unittest.main()
