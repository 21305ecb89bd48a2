"""crossdock.yaml: the merchant's network is read, checked and turned into the warehouse's config tables."""
from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.merchant_config import ConfigError, load_config, parse_config
from demo.network import DEMO_CONFIG

MINIMAL = {
    "nodes": [{"code": "DE-LEJ", "country": "DE"}],
    "markets": [{"code": "DE", "currency": "EUR", "timezone": "Europe/Berlin", "node": "DE-LEJ"}],
}


def with_(**changes) -> dict:
    return {**MINIMAL, **changes}


def test_the_demo_file_is_valid_and_its_tables_have_one_row_per_entry():
    config = load_config(DEMO_CONFIG)
    assert config.market_codes == ["US", "CA", "GB", "DE", "FR", "NL", "AU", "JP"]
    markets = config.markets_frame()
    assert list(markets["market_code"]) == config.market_codes and not markets["is_catch_all"].any()
    assert dict(zip(markets["market_code"], markets["holiday_subdivision"].fillna("")))["CA"] == "ON"
    assert len(config.nodes_frame()) == 5 and len(config.routes_frame()) == 12
    assert config.routes_frame()["crosses_customs_border"].isna().all()  # derived in dbt from the nodes
    assert config.assumptions.frame().to_dict("records") == [
        {"lead_time_days": 30, "unit_cost_share_of_price": 0.5, "moq": 1, "pack_size": 1}
    ]


def test_a_catch_all_market_takes_every_country_not_declared():
    config = parse_config(with_(catch_all={"node": "DE-LEJ"}))
    assert config.market_codes == ["DE", "ROW"]
    assert config.market_for_country("DE") == "DE" and config.market_for_country("BR") == "ROW"
    frame = config.markets_frame().set_index("market_code")
    assert bool(frame.loc["ROW", "is_catch_all"]) and frame.loc["ROW", "timezone"] == "UTC"
    assert parse_config(MINIMAL).market_for_country("BR") is None  # without a catch-all: not covered


def test_codes_are_normalised_to_upper_case():
    config = parse_config(with_(markets=[{"code": "de", "currency": "eur", "timezone": "Europe/Berlin", "node": "DE-LEJ"}]))
    assert (config.markets[0].code, config.markets[0].currency) == ("DE", "EUR")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_(markets=[{"code": "XX", "currency": "EUR", "timezone": "Europe/Berlin", "node": "DE-LEJ"}]),
         "markets.0.code: 'XX' is not an ISO 3166-1 alpha-2 country code"),
        (with_(markets=[{"code": "DE", "currency": "EUX", "timezone": "Europe/Berlin", "node": "DE-LEJ"}]),
         "markets.0.currency: 'EUX' is not an ISO 4217 currency code"),
        (with_(markets=[{"code": "DE", "currency": "EUR", "timezone": "Europe/Londres", "node": "DE-LEJ"}]),
         "markets.0.timezone: 'Europe/Londres' is not an IANA time zone"),
        (with_(markets=[{"code": "DE", "currency": "EUR", "timezone": "Europe/Berlin", "node": "DE-BER"}]),
         "market DE is served by node 'DE-BER', which is not under nodes"),
        (with_(markets=MINIMAL["markets"] * 2), "market declared more than once: DE"),
        (with_(markets=[]), "no markets: declare at least one market or a catch_all market"),
        (with_(catch_all={"code": "FR", "node": "DE-LEJ"}), "catch_all.code: 'FR' is a country code"),
        (with_(routes=[{"from": "DE-LEJ", "to": "AT-VIE", "mode": "road", "cost_eur_per_kg": 1, "transit_days": 2}]),
         "route DE-LEJ -> AT-VIE names node 'AT-VIE', which is not under nodes"),
        (with_(markts=[]), "markts: Extra inputs are not permitted"),
        (with_(assumptions={"lead_time_days": 0}), "assumptions.lead_time_days: Input should be greater than or equal to 1"),
        (with_(forecast={"backtest_every_days": 0}), "forecast.backtest_every_days: Input should be greater than or equal to 1"),
        (with_(forecast={"backtest_windows": 0}), "forecast.backtest_windows: Input should be greater than or equal to 1"),
        (with_(forecast={"backtest_every_day": 3}), "forecast.backtest_every_day: Extra inputs are not permitted"),
        (with_(compliance={"default_incoterm": "EXW"}), "compliance.default_incoterm: 'EXW' is not an incoterm crossdock prices: use DDP or DAP"),
        (with_(compliance={"incoterms": {"ca": "FOB"}}), "incoterms must be DDP or DAP; not CA: FOB"),
        (with_(compliance={"registrations": ["IOS"]}), "unknown registration IOS: crossdock knows IOSS, GB_VAT"),
    ],
)
def test_a_wrong_file_says_where_and_what_to_fix(data, expected):
    with pytest.raises(ConfigError) as error:
        parse_config(data, "acme/crossdock.yaml")
    assert "acme/crossdock.yaml" in str(error.value) and expected in str(error.value)


def test_a_missing_file_points_to_crossdock_init(tmp_path: Path):
    with pytest.raises(ConfigError, match="run `crossdock init`"):
        load_config(tmp_path / "crossdock.yaml")
    (tmp_path / "crossdock.yaml").write_text("nodes: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(tmp_path / "crossdock.yaml")


def test_norway_unquoted_is_false_to_yaml_and_the_error_says_to_quote_it(tmp_path: Path):
    (tmp_path / "crossdock.yaml").write_text(
        "nodes: [{code: NL-AMS, country: NL}]\n"
        "markets: [{code: NO, currency: NOK, timezone: Europe/Oslo, node: NL-AMS}]\n"
    )
    with pytest.raises(ConfigError, match=r'markets.0.code: .*reads an unquoted yes, no, on or off.* as false: put the '
                                          r'value in quotes, e.g. "NO" for Norway'):
        load_config(tmp_path / "crossdock.yaml")
    (tmp_path / "crossdock.yaml").write_text(
        (tmp_path / "crossdock.yaml").read_text().replace("code: NO", 'code: "NO"'))
    assert load_config(tmp_path / "crossdock.yaml").markets[0].code == "NO"


def test_gate_thresholds_pass_through_to_the_gates_table():
    from orchestration.defs.ingest.merchant_config import gate_overrides

    config = parse_config(with_(gates={"stop_probability": 1e-6, "dormant_after_days": 60}))
    row = gate_overrides(config.gates).iloc[0]
    assert row["stop_probability"] == 1e-6 and row["dormant_after_days"] == 60
    assert row.drop(["stop_probability", "dormant_after_days"]).isna().all()  # null: the default


def test_the_forecast_section_sets_the_backtest_cadence_and_defaults_to_a_week():
    assert parse_config(MINIMAL).forecast.backtest_every_days == 7
    forecast = parse_config(with_(forecast={"backtest_every_days": 1, "backtest_series_change_share": 0.5})).forecast
    assert (forecast.backtest_every_days, forecast.backtest_series_change_share) == (1, 0.5)
    assert parse_config(MINIMAL).forecast.backtest_windows == 4
    assert parse_config(with_(forecast={"backtest_windows": 1})).forecast.backtest_windows == 1


def test_the_compliance_section_reaches_the_policy_the_run_config_adds_to():
    """`crossdock run` had no way to say DAP, IOSS or an origin proof on file (a trade analyst's test): only the
    Dagster launchpad did. The file's section is the policy; a run config adds registrations and wins per market."""
    from orchestration.defs.compliance.assets import ComplianceConfig

    settings = parse_config(with_(compliance={"default_incoterm": "dap", "incoterms": {"gb": "DDP"},
                                              "registrations": ["ioss"], "claimed_agreements": ["CUSMA"]})).compliance
    policy = ComplianceConfig().policy(settings)
    assert (policy.default_incoterm, policy.incoterm("GB"), policy.incoterm("US")) == ("DAP", "DDP", "DAP")
    assert policy.registrations == frozenset({"IOSS"}) and policy.claimed_agreements == frozenset({"CUSMA"})
    launched = ComplianceConfig(incoterms={"GB": "DAP"}, registrations=["GB_VAT"]).policy(settings)
    assert launched.incoterm("GB") == "DAP" and launched.registrations == frozenset({"IOSS", "GB_VAT"})
    assert ComplianceConfig().policy().default_incoterm == "DDP"  # no file section: the defaults, as before
