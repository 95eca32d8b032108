"""The evidence a proposed fix carries to its approver: the target's metrics over the rule's window, and why it fired.

One shape for every alert, shared with the approvals page and the chat (keep it exactly):
`{"kind", "label", "window": {"start", "end", "days"}, "metrics": {...}, "rule", "rule_text", "currency"}`.
Built from the alert rows alone (pure); the finders put in the rows every field a card needs. Labels read as the
analytics server's get_target_evidence writes them: "keyword 'yoga mat' (exact)", "SKU 'MAT-1' (Yoga mat)".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from console.formatting import count, date_range, hour_text, money, number, percent
from console.i18n import _

AD_METRICS = ("impressions", "clicks", "spend", "orders", "sales", "acos", "cpc", "ctr", "cvr")
LANG = "en"  # the rule's words are English: its numbers are written in English symbols, amounts in the site's currency


def window(start: dt.date | str | None, end: dt.date | str | None) -> dict[str, Any] | None:
    """`{"start", "end", "days"}` of an inclusive date range; None when either end is unknown."""
    if not start or not end:
        return None
    first, last = (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]) for d in (start, end))
    return {"start": first.isoformat(), "end": last.isoformat(), "days": (last - first).days + 1}


def window_text(span: dict[str, Any] | None) -> str:
    """`Nov 6 – 19, 2026 (14 days)`, in the reader's language (an alert panel's caption); empty without a window."""
    if not span:
        return ""
    return _("{dates} ({days} days)").format(dates=date_range(span["start"], span["end"], lang=LANG),
                                             days=count(span["days"], lang=LANG))


def _ratio(numerator: Any, denominator: Any) -> float | None:
    return None if not denominator or numerator is None else round(float(numerator) / float(denominator), 6)


def ad_metrics(item: dict[str, Any]) -> dict[str, Any]:
    """Impressions to CVR of a keyword, target or search term row; a ratio the row lacks is worked out from its sums."""
    out = {k: item.get(k) for k in ("impressions", "clicks", "spend", "orders", "sales")}
    derived = {"acos": _ratio(out["spend"], out["sales"]), "cpc": _ratio(out["spend"], out["clicks"]),
               "ctr": _ratio(out["clicks"], out["impressions"]), "cvr": _ratio(out["orders"], out["clicks"])}
    for name, value in derived.items():
        given = item.get("avg_cpc") if name == "cpc" and item.get("cpc") is None else item.get(name)
        out[name] = given if given is not None else value
    if not out["sales"]:
        out["acos"] = None  # no sales: ACOS is undefined, not zero
    return out


def _summed(items: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {k: sum(float(it.get(k) or 0) for it in items) for k in ("impressions", "clicks", "spend", "orders", "sales")}
    return ad_metrics({k: int(v) if k in ("impressions", "clicks", "orders") else round(v, 2) for k, v in totals.items()})


def _evidence(kind: str, label: str, metrics: dict[str, Any], rule: str, rule_text: str, *,
              span: dict[str, Any] | None, currency: str | None) -> dict[str, Any]:
    return {"kind": kind, "label": label, "window": span, "metrics": metrics, "rule": rule, "rule_text": rule_text,
            "currency": currency or None}


def _pct(value: Any) -> str:
    return percent(value, 0, lang=LANG)


def _num(item: dict[str, Any], name: str, default: float = 0.0) -> float:
    value = item.get(name)
    return default if value is None else float(value)


def of_row(rule: str, item: dict[str, Any], *, span: dict[str, Any] | None, currency: str | None,
           acos_target: float | None = None) -> dict[str, Any] | None:
    """The evidence of one alert row's target, or None for a kind that files nothing."""
    cur = currency or "USD"
    if rule == "acos_over_target":
        target = item.get("acos_target", acos_target)
        text = f"ACOS {_pct(item.get('acos'))} over the {_pct(target)} target"
        return _evidence("keyword", _keyword_label(item), ad_metrics(item), rule, text, span=span, currency=currency)
    if rule == "wasted_spend":
        if item.get("reason") == "acos_over_max" or (item.get("orders") and item.get("acos")):
            text = f"ACOS {_pct(item.get('acos'))} over the 100% maximum"
        else:
            days = f" in {count(span['days'], lang=LANG)} days" if span else ""
            text = f"spent {money(_num(item, 'spend'), cur, lang=LANG)} with no orders{days}"
        if item.get("keyword_id") is None:
            return _evidence("search_term", _term_label(item, "text"), ad_metrics(item), rule, text, span=span,
                             currency=currency)
        return _evidence("keyword", _keyword_label(item), ad_metrics(item), rule, text, span=span, currency=currency)
    if rule == "harvest":
        text = (f"CVR {_pct(item.get('cvr'))} (over 10%) with {count(_num(item, 'orders'), lang=LANG)} orders (at least 3), "
                "not yet in a manual campaign")
        return _evidence("search_term", _term_label(item, "search_term"), ad_metrics(item), rule, text, span=span,
                         currency=currency)
    if rule == "budget_exhausted":
        if item.get("role", "exhausted") == "exhausted":
            at = f", typically at {hour_text(item['exhausted_hour'], lang=LANG)}" if item.get("exhausted_hour") is not None else ""
            early = item.get("days_exhausted_early")
            text = (f"budget ran out early on {count(early, lang=LANG)} of {count(_num(item, 'days'), lang=LANG)} days{at}"
                    if early is not None
                    else f"budget ran out early{at}")
        else:
            text = f"used {_pct(item.get('utilisation'))} of its budget (under 50%): budget to move"
        used = item.get("utilisation")  # 0..1: a budget overspent by a few cents reads as fully used
        metrics = {"daily_budget": item.get("daily_budget"), "utilisation": None if used is None else min(1.0, used),
                   "exhausted_hour": item.get("exhausted_hour"), "spend": item.get("spend"), "sales": item.get("sales"),
                   "acos": item.get("acos")}
        label = f"campaign '{item.get('campaign_name') or item.get('campaign_id')}'"
        return _evidence("campaign", label, metrics, rule, text, span=span, currency=currency)
    if rule in ("stock_out_risk", "oos_live_ads"):
        if rule == "oos_live_ads":
            text = f"out of stock with {count(_num(item, 'live_ads'), lang=LANG)} live ads"
        elif item.get("out_of_stock"):
            text = f"out of stock; lead time {count(_num(item, 'lead_time_days'), lang=LANG)} days"
        else:
            days = item.get("days_of_supply")
            supply = "no sales" if days is None else f"{number(days, 1, lang=LANG)} days of supply"
            text = (f"{supply} at {number(_num(item, 'velocity_per_day'), lang=LANG)} a day; "
                    f"lead time {count(_num(item, 'lead_time_days'), lang=LANG)} days")
        metrics = {k: item.get(k) for k in ("on_hand", "reserved", "inbound", "velocity_per_day", "days_of_supply",
                                            "lead_time_days") if k != "reserved" or k in item}
        label = f"SKU '{item.get('sku')}'" + (f" ({item['title']})" if item.get("title") else "")
        return _evidence("sku", label, metrics, rule, text, span=span, currency=currency)
    if rule == "low_star_reviews":
        n = int(_num(item, "low_star_reviews_of_product", 1))
        days = f" in {count(span['days'], lang=LANG)} days" if span else ""
        metrics = {"rating": item.get("product_rating"), "low_star_reviews": n,
                   "live_ad_skus": list(item.get("live_ad_skus") or [])}
        label = f"product '{item.get('product_title') or item.get('product_id')}'"
        return _evidence("product", label, metrics, rule, f"{count(n, lang=LANG)} reviews of 1–2 stars{days}", span=span,
                         currency=currency)
    return None


def of_terms(items: list[dict[str, Any]], *, span: dict[str, Any] | None, currency: str | None) -> dict[str, Any]:
    """The evidence of a new manual campaign: the harvestable terms of an auto campaign no manual campaign serves."""
    name = items[0].get("campaign_name") or items[0].get("campaign_id")
    label = f"{len(items)} search terms of '{name}'"
    text = (f"{count(len(items), lang=LANG)} terms convert over 10% with at least 3 orders, and no manual campaign advertises "
            "the auto campaign's SKUs")
    return _evidence("search_term", label, _summed(items), "harvest", text, span=span, currency=currency)


def _keyword_label(item: dict[str, Any]) -> str:
    text = item.get("text") or item.get("name")
    match = f" ({item['match_type']})" if item.get("match_type") else ""
    return f"keyword '{text}'{match}"


def _term_label(item: dict[str, Any], field: str) -> str:
    where = f" in '{item['campaign_name']}'" if item.get("campaign_name") else ""
    return f"search term '{item.get(field)}'{where}"
