"""The formatting layer: every kind of figure for each demo site read in English, Chinese and the site's own locale."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from console import formatting as f

NB, THIN, NNB = "\xa0", "\u2009", "\u202f"  # CLDR's no-break, thin and narrow no-break spaces
READERS = [("en", "us"), ("en", "de"), ("en", "jp"), ("zh", "us"), ("zh", "de"), ("zh", "jp"), (None, "de"), (None, "jp")]

# kind → (how it is written, what each reader sees, in the order of READERS)
GRID: dict[str, tuple] = {
    "money": (lambda w: f.money(1234.5, **w),
              ["$1,234.50", "€1,234.50", "¥1,235", "US$1,234.50", "€1,234.50", "JP¥1,235", f"1.234,50{NB}€", "￥1,235"]),
    "negative money": (lambda w: f.money(-2106123.4, **w),
                       ["-$2,106,123.40", "-€2,106,123.40", "-¥2,106,123", "-US$2,106,123.40", "-€2,106,123.40",
                        "-JP¥2,106,123", f"-2.106.123,40{NB}€", "-￥2,106,123"]),
    "tile money": (lambda w: f.money_compact(2106123.4, **w),
                   ["$2.1M", "€2.1M", "¥2.1M", "US$210.6万", "€210.6万", "JP¥210.6万", f"2,1{NB}Mio.{NB}€", "￥210.6万"]),
    "short tile money": (lambda w: f.money_compact(950, **w),
                         ["$950.00", "€950.00", "¥950", "US$950.00", "€950.00", "JP¥950", f"950,00{NB}€", "￥950"]),
    "count": (lambda w: f.count(1234567, **w),
              ["1,234,567"] * 6 + ["1.234.567", "1,234,567"]),
    "tile count": (lambda w: f.compact(21061234, **w),
                   ["21.1M"] * 3 + ["2106.1万"] * 3 + [f"21,1{NB}Mio.", "2106.1万"]),
    "decimal": (lambda w: f.number(10, 1, **w), ["10.0"] * 6 + ["10,0", "10.0"]),
    "percent": (lambda w: f.percent(0.2345, **w), ["23.5%"] * 6 + [f"23,5{NB}%", "23.5%"]),
    "points": (lambda w: f.points(0.097, **w),
               ["+9.7 pp"] * 3 + ["+9.7个百分点"] * 3 + ["+9,7 pp", "+9.7 pp"]),
    "delta up": (lambda w: f.delta(0.123, **w), ["+12.3%"] * 6 + [f"+12,3{NB}%", "+12.3%"]),
    "delta down": (lambda w: f.delta(-0.04, **w), ["-4.0%"] * 6 + [f"-4,0{NB}%", "-4.0%"]),
    "delta zero": (lambda w: f.delta(0.0001, **w), ["0.0%"] * 6 + [f"0,0{NB}%", "0.0%"]),
    "multiple": (lambda w: f.multiple(3.4167, **w), ["3.42×"] * 6 + ["3,42×", "3.42×"]),
    "duration": (lambda w: f.duration_ms(2500, **w), ["2.5 s"] * 6 + ["2,5 s", "2.5 s"]),
    "date": (lambda w: f.date_text("2026-11-20", **w),
             ["Nov 20, 2026"] * 3 + ["2026年11月20日"] * 3 + ["20.11.2026", "2026/11/20"]),
    "date range": (lambda w: f.date_range(dt.date(2026, 11, 14), dt.date(2026, 11, 20), **w),
                   [f"Nov 14{THIN}–{THIN}20, 2026"] * 3 + [f"2026年11月14日{THIN}–{THIN}20日"] * 3
                   + ["14.–20. Nov. 2026", "2026年11月14日～20日"]),
    "timestamp": (lambda w: f.datetime_text("2026-11-19T10:30:00", **w),
                  [f"Nov 19, 2026, 10:30{NNB}AM"] * 3 + ["2026年11月19日 10:30"] * 3
                  + ["19.11.2026, 10:30", "2026/11/19 10:30"]),
    "short timestamp": (lambda w: f.datetime_text("2026-11-19T10:30:00", "short", **w),
                        [f"11/19/26, 10:30{NNB}AM"] * 3 + ["2026/11/19 10:30"] * 3
                        + ["19.11.26, 10:30", "2026/11/19 10:30"]),
    "hour": (lambda w: f.hour_text(6, **w), [f"6:00{NNB}AM"] * 3 + ["06:00"] * 3 + ["06:00", "6:00"]),
}


@pytest.mark.parametrize("kind", sorted(GRID))
@pytest.mark.parametrize(("index", "reader"), list(enumerate(READERS)), ids=[f"{lang}-{site}" for lang, site in READERS])
def test_every_kind_for_every_reader(kind, index, reader) -> None:
    write, expected = GRID[kind]
    lang, site = reader
    assert write({"site": site, "lang": lang}) == expected[index]


@pytest.mark.parametrize("write", [f.money, f.money_compact, f.count, f.compact, f.number, f.percent, f.points,
                                   f.delta, f.multiple, f.date_text, f.datetime_text, f.hour_text])
@pytest.mark.parametrize("value", [None, math.nan, math.inf, pd.NA, ""])
def test_nothing_reads_as_a_dash(write, value) -> None:
    assert write(value) == "—"


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1234.5, "USD", "$1,234.50"),
        (0, "USD", "$0.00"),
        (-12.345, "EUR", "-€12.35"),  # half up, as people round
        (1234.6, "JPY", "¥1,235"),
        (5, "CHF", "CHF5.00"),
        (None, "USD", "—"),
        (math.nan, "USD", "—"),
    ],
)
def test_money_keeps_its_positional_currency(value, currency, expected) -> None:
    assert f.money(value, currency) == expected


def test_time_zones_and_odd_input() -> None:
    assert f.datetime_text("2026-11-19T23:30:00", tz="Asia/Tokyo", lang="en") == f"Nov 20, 2026, 8:30{NNB}AM"
    assert f.datetime_text(dt.datetime(2026, 11, 19, 23, 30, tzinfo=dt.UTC), site="de") == "19.11.2026, 23:30"
    assert f.date_text("not a date") == f.datetime_text("soon") == f.hour_text(24) == "—"
    assert f.date_range("2026-11-20", "2026-11-20", site="de") == "20.11.2026"


def test_money_options() -> None:
    assert f.money(1234.5, "EUR", site="jp") == "€1,234.50"  # a named currency wins over the site's
    assert f.money(1234.5, site="de", locale="de_DE", digits=0) == f"1.235{NB}€"
    assert f.money(12.5, "USD", signed=True) == "+$12.50" and f.money(-12.5, "USD", signed=True) == "-$12.50"


@pytest.mark.parametrize(
    ("fn", "value", "expected"),
    [
        (f.percent, 1.5, "150.0%"),
        (f.delta, 0.123, "+12.3%"),
        (f.count, 1234567, "1,234,567"),
        (f.multiple, 3.4167, "3.42×"),
        (f.duration_ms, 12.4, "12 ms"),
        (f.duration_ms, 2500, "2.5 s"),
    ],
)
def test_the_old_calls_still_read_the_same(fn, value, expected) -> None:
    assert fn(value) == expected
    assert f.percent(0.5, 0) == "50%"


@pytest.mark.parametrize(
    ("metric", "now", "before", "text", "kind", "direction", "tone"),
    [
        ("acos", 0.397, 0.30, "+9.7 pp", "points", "up", "bad"),
        ("acos", 0.25, 0.30, "-5.0 pp", "points", "down", "good"),
        ("ctr", 0.012, 0.010, "+0.2 pp", "points", "up", "good"),
        ("cvr", 0.10, 0.10, "0.0 pp", "points", "flat", "neutral"),
        ("sales", 110, 100, "+10.0%", "relative", "up", "good"),
        ("orders", 12, 12, "0.0%", "relative", "flat", "neutral"),
        ("orders", 0, 0, "0.0%", "relative", "flat", "neutral"),
        ("orders", 5, 0, "—", "relative", "none", "neutral"),  # something from nothing has no relative change
        ("cpc", 1.10, 1.00, "+10.0%", "relative", "up", "bad"),
        ("spend", 120, 100, "+20.0%", "relative", "up", "neutral"),
        ("roas", None, 2.0, "—", "relative", "none", "neutral"),
        ("returns_rate", 0.05, 0.04, "+1.0 pp", "points", "up", "bad"),
    ],
)
def test_change_says_what_kind_and_whether_it_is_good(metric, now, before, text, kind, direction, tone) -> None:
    c = f.change(metric, now, before)
    assert (c.text, c.kind, c.direction, c.tone) == (text, kind, direction, tone)


def test_change_feeds_a_metric_tile() -> None:
    assert f.change("acos", 0.397, 0.30).metric_kwargs() == {"delta": "+9.7 pp", "delta_color": "red", "delta_arrow": "up"}
    assert f.change("orders", 12, 12).metric_kwargs() == {"delta": "0.0%", "delta_color": "gray", "delta_arrow": "off"}
    assert f.change("sales", 90, 100).metric_kwargs() == {"delta": "-10.0%", "delta_color": "red", "delta_arrow": "down"}
    assert f.change("roas", None, 1).metric_kwargs()["delta"] is None
    assert f.change("acos", 0.4, 0.3).description == "change in percentage points"
    assert f.change("acos", 0.4, 0.3, site="de", lang="zh").text == "+10.0个百分点"
    assert f.relative_change("orders", 0.00001).direction == "flat"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("under_utilised", "Under-utilised"), ("succeeded", "Succeeded"), ("exhausted_early", "Out of budget early"),
     (None, "—"), ("None", "—"), (math.nan, "—"), (pd.NA, "—"), (True, "Yes"), ("SP", "Sponsored Products"),
     ("brand_new_state", "Brand new state"), ("Yoga mat", "Yoga mat"), (3, "3")],
)
def test_label(value, expected) -> None:
    assert f.label(value) == expected


def test_headers() -> None:
    assert [f.header(c) for c in ("acos", "campaign_name", "days_of_supply", "spend")] == [
        "ACOS", "Campaign", "Days of supply", "Spend"]
    assert f.header("spend", currency="EUR") == "Spend (EUR)"


KINDS = {"spend": "money", "acos": "ratio", "orders": "count", "roas": "multiple", "status": "label", "day": "date"}


def frame() -> pd.DataFrame:
    return pd.DataFrame({"campaign_name": ["A", "B"], "spend": [1234.56789, 2 / 3], "acos": [0.123456789, None],
                         "orders": [3.0, None], "roas": [3.333333, 1.0], "status": ["under_utilised", None],
                         "day": ["2026-11-20", "2026-11-19T10:00:00"], "other": [1 / 3, 0.5]})


@pytest.mark.parametrize(("site", "spend"), [("us", "1234.57,0.67"), ("de", "1234.57,0.67"), ("jp", "1235,1")])
def test_csv_frame_rounds_by_kind(site, spend) -> None:
    out = f.csv_frame(frame(), KINDS, site=site)
    currency = f.site_currency(site)
    assert list(out.columns) == ["Campaign", f"Spend ({currency})", "ACOS", "Orders", "ROAS", "Status", "Day", "Other"]
    first, second = spend.split(",")
    assert out.to_csv(index=False).splitlines() == [
        f"Campaign,Spend ({currency}),ACOS,Orders,ROAS,Status,Day,Other",
        f"A,{first},0.1235,3,3.33,Under-utilised,2026-11-20,0.3333",
        f"B,{second},,,1.0,,2026-11-19,0.5"]


def test_csv_frame_with_a_currency_per_row() -> None:
    rows = pd.DataFrame({"site": ["us", "jp"], "currency": ["USD", "JPY"], "spend": [10.456, 1234.6]})
    out = f.csv_frame(rows, {"spend": "money"})
    assert out["Spend"].tolist() == [10.46, 1235.0]


def test_display_frame_writes_every_cell() -> None:
    out = f.display_frame(frame(), KINDS, site="jp", lang="en")
    assert out.to_dict("records")[0] == {"Campaign": "A", "Spend": "¥1,235", "ACOS": "12.3%", "Orders": "3",
                                         "ROAS": "3.33×", "Status": "Under-utilised", "Day": "Nov 20, 2026",
                                         "Other": "0.3333333333333333"}
    assert out.to_dict("records")[1]["Status"] == "—" and out.to_dict("records")[1]["ACOS"] == "—"


def test_column_specs_are_plain_data() -> None:
    specs = f.column_specs(KINDS, site="jp")
    assert specs["spend"].kwargs() == {"label": "Spend", "format": "yen"}
    assert specs["acos"].kwargs() == {"label": "ACOS", "format": "percent"}
    assert (specs["orders"].column, specs["status"].column, specs["day"].column) == ("number", "text", "date")
    assert f.column_spec("spend", "money", currency="GBP").kwargs() == {"label": "Spend (GBP)", "format": "%.2f"}


@pytest.mark.parametrize(
    ("value", "kind", "where", "expected"),
    [
        (2106123.4, "money", {"site": "jp", "lang": "en"}, ("¥2.1M", "¥2,106,123")),
        (2106123.4, "money", {"site": "jp"}, ("￥210.6万", "￥2,106,123")),
        (1234.5, "money", {"site": "us"}, ("$1,234.50", "$1,234.50")),  # short enough to show whole
        (21061234, "count", {"lang": "zh"}, ("2106.1万", "21,061,234")),
        (0.3, "ratio", {}, ("30.0%", "30.0%")),
        (3.4167, "multiple", {"site": "de"}, ("3,42×", "3,42×")),
        (None, "money", {}, ("—", "—")),
    ],
)
def test_tile_gives_the_short_text_and_the_whole_figure(value, kind, where, expected) -> None:
    assert f.tile(value, kind, **where) == expected


@pytest.mark.parametrize(
    ("where", "locale"),
    [({}, "en_US"), ({"site": "de"}, "de_DE"), ({"site": "jp"}, "ja_JP"), ({"site": "xx"}, "en_US"),
     ({"site": "de", "lang": "en"}, "en_US"), ({"site": "us", "lang": "zh_Hans_CN"}, "zh_Hans_CN"),
     ({"lang": "zh-Hans"}, "zh_Hans_CN"), ({"lang": "fr"}, "en_US"), ({"site": "jp", "locale": "de_DE"}, "de_DE")],
)
def test_which_locale_writes_it(where, locale) -> None:
    assert str(f.reading_locale(**where)) == locale
