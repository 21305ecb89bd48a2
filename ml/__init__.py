"""Demand forecast for crossdock: pure Python on DataFrames, no Dagster.

Input is the dbt mart `marts.fct_daily_demand` (sparse: one row per
sku x market x day with activity; a missing day means zero units sold).

Modules, one job each:

- `ml.panel`: sparse long history -> dense series x day matrix of units sold.
- `ml.calendar_features`: per market x day holiday / sales-event arrays.
- `ml.features`: leakage-free direct multi-horizon features and training-row sampling.
- `ml.model`: global LightGBM boosters for p10, p90 and the expected units: train and predict
  (p50 is the median of a count with the expected units: `crossdock.count_median`).
- `ml.bulk_orders`: what the model trains on once bulk days (`crossdock.bulk_days`, a wholesaler's pallet) are capped.
- `ml.baselines`: seasonal naive (7), naive (1), the 28-day mean, on the dense panel.
- `ml.stat_baselines`: AutoETS and Croston from statsforecast on the backtest's windows.
- `ml.metrics`: weekly WAPE, RMSSE, WAPE, bias, MASE, interval coverage, pinball loss.
- `ml.demand_class`: each series' demand pattern (Syntetos-Boylan) at an origin, for scores per class.
- `ml.calibration`: the p10-p90 band scaled per demand class, fitted on the backtest.
- `ml.blend`: the published mean, the model's blended with each series' regular 28-day level, weight proven held out.
- `ml.stopped_series`: series whose quiet run is too long for their own rate of selling days (forecast 0 when proven).
- `ml.hierarchy`: the forecast made coherent with its category x market and market totals.
- `ml.season_ahead`: the markets (and categories) whose weeks ahead hold a season no backtest window scored (model
  mean alone, summed up).
- `ml.season_lift`: a category lifted to last year's season where no window held one and the forecast falls short.
- `ml.backtest`: rolling-origin backtest of the model against the baselines.
- `ml.backtest_scores`: the models the backtest compares, their columns, and the metrics table it scores them in.
- `ml.backtest_gate`: the backtest's verdict for the checks: does the model beat the baselines it must (and should)?
- `ml.backtest_cadence`: whether the backtest must run again or its last result still holds.
- `ml.backtest_store`: the backtest's record and latest result in the warehouse (audit.backtest_*).
- `ml.backtest_run`: a run's decision: read what was proven last and the data's shape, then run or reuse.
- `ml.fallback_forecast`: the best baseline's forecast, published in the model's place when the model lost.
- `ml.series_selection`: which series to forecast (`active_series`, planned launches).
- `ml.forecast`: the forecast itself, `forecast_demand` (prepare, train, predict).
- `ml.registry`: the saved model of each forecast (boosters, features, training window, metrics).
- `ml.retrain_cadence`: whether the daily forecast trains its model again or predicts with the last saved one.
- `ml.plots`: a forecast chart per market, as PNG bytes for the Dagster UI.

`bench/forecast.py` and `bench/backtest.py` time and score them on a full-size history.

Design notes and measured figures: `ml/README.md`.
"""
