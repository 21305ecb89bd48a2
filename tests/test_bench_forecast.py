"""bench/forecast.py builds its input like the mart and lays both demo merchants side by side, so its figures speak
for the pipeline on the easy and the hard merchant at once."""
import glob
import json
from types import SimpleNamespace

import pandas as pd
import pytest

from bench import forecast_report as report
from demo.generate import generate
from bench_modules import load_bench

TINY = ["--scale", "tidy=0.05,messy=0.08", "--days", "300", "--windows", "1", "--horizon", "14", "--seed", "3",
        "--baseline-jobs", "1", "--no-mlforecast"]


def _bench():
    return load_bench("forecast")


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def messy_landing(tmp_path_factory):
    landing = tmp_path_factory.mktemp("messy")
    generate(landing, scale=0.08, seed=3, days=300, profile="messy", quiet=True)
    return landing


def _orders(landing) -> pd.DataFrame:
    files = sorted(glob.glob(str(landing / "orders" / "orders_*.csv")))
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)


def test_history_from_landing_has_the_marts_columns_and_eur_revenue(tmp_path, bench):
    generate(tmp_path, scale=0.05, seed=3, days=400, quiet=True)
    history = bench.history_from_landing(tmp_path, bench.demo_config("tidy"))
    assert {"sku", "market", "category", "demand_date", "units_sold", "units_returned", "revenue_eur"} <= set(history.columns)
    assert not history.duplicated(["sku", "market", "demand_date"]).any()
    sold = history[history["units_sold"] > 0]
    price = sold["revenue_eur"] / sold["units_sold"]
    assert (price > 0).all() and price.median() < 1000  # converted to EUR: JPY prices would be ~100x larger
    assert (history["category"] != "unknown").all()
    assert pd.api.types.is_datetime64_any_dtype(history["demand_date"])
    assert set(history["market"]) == set(bench.demo_config("tidy").market_codes)


def test_messy_history_plans_the_long_tail_in_the_catch_all_and_keeps_every_unit(messy_landing, bench):
    config = bench.demo_config("messy")
    history = bench.history_from_landing(messy_landing, config)
    orders = _orders(messy_landing)
    qty = orders["quantity"].astype(int)
    own = {m.code for m in config.markets}
    assert set(history["market"]) == own | {"ROW"}  # the five markets and the catch-all, no country of the tail
    assert orders["ship_to_country"].nunique() > len(own) + 10

    # gift cards and shipping protection (typed not_stocked, or a protection refund the export does not type) are
    # no goods: every other line is in the history, they are not
    goods = (orders["line_type"] != "not_stocked") & (orders["sku"] != "ROUTEINS")
    assert ((orders["sku"] == "ROUTEINS") & (orders["line_type"] == "")).any()  # a refund: the SKU's rule is exercised
    blank = (orders["line_type"] == "") & goods
    sale = blank & (qty > 0)
    write_off = blank & (qty < 0) & (orders["unit_price"].astype(float) == 0) & (orders["customer_id"] == "")
    returned = blank & (qty < 0) & ~write_off
    assert history["units_sold"].sum() == qty[sale].sum()  # wholesale lines are sales, as stg_orders infers
    assert history["units_returned"].sum() == -qty[returned].sum()
    assert history["units_written_off"].sum() == -qty[write_off].sum() > 0  # kept out of demand
    assert history["units_cancelled"].sum() == qty[orders["line_type"] == "cancellation"].sum() > 0
    tail = sale & ~orders["ship_to_country"].isin(own)
    assert history.loc[history["market"] == "ROW", "units_sold"].sum() == qty[tail].sum() > 0
    assert history.loc[history["market"] == "DE", "units_sold"].sum() == qty[sale & (orders["ship_to_country"] == "DE")].sum()
    day = pd.to_datetime(orders["ordered_at"].str[:10])[goods]  # the local day as written
    assert history["demand_date"].min() == day.min() and history["demand_date"].max() == day.max()
    assert (history["category"] == "unknown").any() and (history["category"] != "unknown").any()  # a partial catalogue
    assert (history.loc[history["units_sold"] > 0, "revenue_eur"] > 0).all()
    assert history["order_lines"].sum() == goods.sum() < len(orders)
    assert not history["sku"].isin(["ROUTEINS", ""]).any()


def test_per_profile_values_take_one_value_or_pairs(bench):
    both = ["tidy", "messy"]
    assert bench.per_profile(None, both, float, bench.DEFAULT_SCALE) == bench.DEFAULT_SCALE
    assert bench.per_profile("0.5", both, float, bench.DEFAULT_SCALE) == {"tidy": 0.5, "messy": 0.5}
    assert bench.per_profile("messy=2", both, float, bench.DEFAULT_SCALE) == {"tidy": 1.0, "messy": 2.0}
    assert bench.per_profile("tidy=400", ["tidy"], int, bench.DEFAULT_DAYS) == {"tidy": 400}
    with pytest.raises(ValueError):
        bench.per_profile("tiny=1", both, float, bench.DEFAULT_SCALE)
    assert bench.parse_profiles("messy, tidy,messy") == ["messy", "tidy"]


def test_both_profiles_side_by_side(tmp_path, bench, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(TINY + ["--json", str(out)]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert list(figures["inputs"]) == ["tidy", "messy"]
    table = figures["side_by_side"]
    models = ["lightgbm", "seasonal_naive_7", "naive_1", "mean_28", "zero", "auto_ets", "croston_optimized"]
    assert table["index"] == models
    metrics = ["weekly_wape", "ratio_snaive", "rmsse", "daily_p50_wape", "mean_bias", "mean_bias_regular", "below_p10",
               "above_p90", "below_p10_published", "above_p90_published"]
    assert table["columns"] == [[m, p] for m in metrics for p in ("tidy", "messy")]  # each metric's profiles adjacent
    values = pd.DataFrame(table["data"], index=models)
    assert values.iloc[:, 0].notna().all() and values.iloc[:, 1].notna().all()  # weekly WAPE of every model, both
    assert values.loc["zero"].iloc[:2].tolist() == [1.0, 1.0]  # a zero forecast scores exactly 1 on weekly WAPE
    messy_markets = {row["scope_value"] for row in figures["inputs"]["messy"]["metrics"] if row["scope"] == "market"}
    assert "ROW" in messy_markets
    for profile in ("tidy", "messy"):
        assert f"[{profile}] gate: " in printed and f"[{profile}] targets (issue 16): " in printed
    assert "train_predict_s" in printed and "crossdock/mlf" in printed
    assert list(figures["targets"]) == ["tidy", "messy"]  # one seed each: no summary rows


def test_the_targets_judge_the_published_band_not_the_boosters_raw_one():
    overall = pd.DataFrame(
        {"weekly_wape": [0.4, 0.5], "wape": [0.7, 1.0], "mean_bias": [-0.2, None], "mean_bias_regular": [-0.05, None],
         "below_p10": [0.0, None], "above_p90": [0.06, None], "below_p10_calibrated": [0.02, None],
         "above_p90_calibrated": [0.09, None]},
        index=["lightgbm", "seasonal_naive_7"],
    )
    targets = report.Targets.of(overall)
    assert (targets.above_p90, targets.above_p90_raw) == (0.09, 0.06)
    assert targets.met() == {"weekly_ratio": True, "daily_ratio": True, "mean_bias": False, "mean_bias_regular": True,
                             "below_p10": True, "above_p90": True}
    assert "above p90 0.090 (0.08-0.12: yes)" in targets.line()


def test_several_data_seeds_are_one_input_each_and_summarised_per_merchant(tmp_path, bench, capsys):
    out = tmp_path / "bench.json"
    argv = ["--profiles", "messy", "--scale", "0.05", "--days", "200", "--windows", "1", "--horizon", "7", "--seed", "3",
            "--data-seeds", "3,4,3", "--baseline-jobs", "1", "--no-mlforecast", "--json", str(out)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert list(figures["inputs"]) == ["messy/s3", "messy/s4"]  # a seed given twice is run once
    assert figures["inputs"]["messy/s3"]["series"] != figures["inputs"]["messy/s4"]["series"]  # two draws, not one
    targets = pd.DataFrame(figures["targets"]).T
    draws = targets.loc[["messy/s3", "messy/s4"]]
    assert targets.loc["messy: mean of 2 seeds", "weekly_ratio"] == pytest.approx(draws["weekly_ratio"].mean())
    assert targets.loc["messy: lowest", "mean_bias"] == draws["mean_bias"].min()
    assert targets.loc["messy: highest", "above_p90"] == draws["above_p90"].max()
    assert "[messy/s4] targets (issue 16): " in printed and "published band by demand class" in printed
    assert bench.parse_seeds("7, 11,7") == [7, 11]
    blocks = report.metric_blocks(8)
    assert all(len(block) * 8 <= 16 for block in blocks) and sum(blocks, []) == [
        report.SHORT_NAMES.get(m, m) for m in report.KEY_METRICS]  # every metric printed once, in order
    assert report.metric_blocks(40) == [[report.SHORT_NAMES.get(m, m)] for m in report.KEY_METRICS]
    with pytest.raises(ValueError, match="--data-seeds"):
        bench.parse_seeds("7,eleven")


def test_a_single_history_is_one_column(tmp_path, bench, messy_landing, capsys):
    path = tmp_path / "fct_daily_demand.parquet"
    bench.history_from_landing(messy_landing, bench.demo_config("messy")).to_parquet(path)
    out = tmp_path / "bench.json"
    assert bench.main(["--history", str(path), "--windows", "1", "--horizon", "14", "--baseline-jobs", "1",
                       "--no-mlforecast", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert list(figures["inputs"]) == [path.name]
    assert {label for _, label in figures["side_by_side"]["columns"]} == {path.name}
    assert "[fct_daily_demand.parquet] gate: " in capsys.readouterr().out


def test_each_class_says_on_what_share_of_days_it_sold_and_when_that_caps_its_p90_under_the_floor():
    """A count's p90 is exceeded only on a day that sold: a class selling on 2 % of days cannot reach 8 %."""
    metrics = pd.DataFrame({
        "scope": ["demand_class", "demand_class", "overall"], "scope_value": ["intermittent", "new", "all"],
        "model": ["lightgbm"] * 3, "n_series": [10, 5, 15],
        "below_p10_calibrated": [0.01, 0.0, 0.01], "above_p90_calibrated": [0.09, 0.02, 0.07],
    })
    actual = [1.0] * 25 + [0.0] * 75 + [2.0] * 2 + [0.0] * 98  # intermittent sells on 25 % of days, new on 2 %
    p90 = [0.5] * 9 + [1.0] * 16 + [0.5] * 75 + [0.5] * 100  # 9 of intermittent's 100 days above their p90
    predictions = pd.DataFrame({"demand_class": ["intermittent"] * 100 + ["new"] * 100, "actual": actual,
                                "p90_calibrated": p90})
    run = SimpleNamespace(label="m", backtest_result=SimpleNamespace(metrics=metrics, predictions=predictions))
    line = report.class_band_line(run)
    assert "intermittent (10 series, sold on 0.250 of days) 0.010 / 0.090" in line
    assert "new (5 series, sold on 0.020 of days, the most any p90 can be exceeded, under the 0.08 floor) 0.000 / 0.020" in line
    assert line.endswith("; above p90 on the classes that sold on 0.08 of days or more: 0.090")  # new's days left out


def test_model_settings_reach_every_forecast_and_backtest_and_a_bad_one_is_refused(tmp_path, bench, messy_landing,
                                                                                     monkeypatch, capsys):
    """`--model-setting name=value` sets a ModelConfig field for the run, cast to the default's type, and says so."""
    assert bench.parse_model_settings(["tweedie_variance_power=1.2", " num_boost_round = 20"]) == {
        "tweedie_variance_power": 1.2, "num_boost_round": 20}
    with pytest.raises(ValueError, match="name one of .*tweedie_variance_power"):
        bench.parse_model_settings(["tweedie_power=1.2"])
    with pytest.raises(ValueError, match="'many' is not a int, like the default 100"):
        bench.parse_model_settings(["num_boost_round=many"])
    seen = []
    for name in ("forecast_demand", "backtest"):
        original = getattr(bench, name)
        monkeypatch.setattr(bench, name, lambda *a, _original=original, **k: seen.append(k["config"]) or _original(*a, **k))
    path = tmp_path / "fct_daily_demand.parquet"
    bench.history_from_landing(messy_landing, bench.demo_config("messy")).to_parquet(path)
    out = tmp_path / "bench.json"
    assert bench.main(["--history", str(path), "--windows", "1", "--horizon", "14", "--baseline-jobs", "1", "--no-mlforecast",
                       "--model-setting", "num_boost_round=20", "--model-setting", "tweedie_variance_power=1.3",
                       "--json", str(out)]) == 0
    assert len(seen) == 2 and all((c.num_boost_round, c.tweedie_variance_power) == (20, 1.3) for c in seen)
    assert json.loads(out.read_text())["settings"]["model"] == {"num_boost_round": 20, "tweedie_variance_power": 1.3}
    assert "changed from ml.model.ModelConfig's defaults: num_boost_round=20, tweedie_variance_power=1.3" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--history", str(path), "--model-setting", "rounds"])
