"""Admin → Safety limits: every limit labelled in the site's currency, and a refused save says why beside the value."""

from __future__ import annotations

from tests.ui.conftest import open_page


def test_the_limits_form_labels_every_limit_in_the_sites_currency(app) -> None:
    at = open_page(app("admin@demo.local"), "admin")
    at.selectbox(key="limits-site").select("jp").run()
    labels = {n.key: n.label for n in at.number_input}
    assert labels["jp-max_new_bid"] == "Largest bid of a new ad group, keyword or product target (JPY)"
    assert labels["jp-import_price_min"] == "Lowest price an import may set (JPY)"
    assert labels["jp-max_target_daily_change_pct"] == "Largest total change of one bid, budget or price per day (%)"
    assert at.number_input(key="jp-max_new_bid").value == 500.0


def test_a_limit_that_makes_no_sense_is_refused_beside_it(app, ui_runtime) -> None:
    from console.approvals.queue import site_policy

    before = site_policy(ui_runtime, "de")
    changes_before = len(ui_runtime.bridge.audit.query(event="policy_changed", site="de"))  # the runtime is shared
    at = open_page(app("admin@demo.local"), "admin")
    at.selectbox(key="limits-site").select("de").run()
    at.number_input(key="de-max_bid_change_pct").set_value(-20.0)
    at.number_input(key="de-expiry_hours").set_value(0.0)
    [b for b in at.button if b.label == "Save limits"][0].click().run()
    errors = [e.value for e in at.error]
    assert any(e.startswith("**VALIDATION_FAILED** — the limits of de were not saved: Largest bid change per "
                            "operation (%) is -20") for e in errors)
    assert "Largest bid change per operation (%) is -20: it is a size that holds in both directions, so it must be " \
           "more than 0 (e.g. 50 allows changes of up to ±50%)" in errors
    assert any(e.startswith("Pending operations expire after (hours) is 0") for e in errors)
    assert site_policy(ui_runtime, "de") == before
    assert len(ui_runtime.bridge.audit.query(event="policy_changed", site="de")) == changes_before


def test_limits_saved_before_they_were_checked_are_pointed_out(app, ui_runtime) -> None:
    import dataclasses

    from mcp_bridge.catalog.policy import default_policy
    from mcp_bridge.store import Store

    with Store(ui_runtime.engine).write() as s:  # as an older console could save it
        s.merge(dataclasses.replace(default_policy("us"), expiry_hours=0.0).to_row())
    at = open_page(app("admin@demo.local"), "admin")
    at.selectbox(key="limits-site").select("us").run()
    assert [w.value for w in at.warning if w.value.startswith("The saved value")] == [
        "The saved value makes no sense: Pending operations expire after (hours) is 0: it must be between 1 hour and "
        "720 hours (30 days)"]
