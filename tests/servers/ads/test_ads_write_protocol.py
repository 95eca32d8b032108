"""The write contract, for every ads write tool: dry run, token, idempotency, expected_before, bad input, scope."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

# One valid proposal per write tool (business arguments only), on the hand-built market of conftest.py.
PROPOSALS = {
    "update_bid": {"site": "us", "keyword_id": 1, "bid": 1.0},
    "pause_keyword": {"site": "us", "keyword_id": 1},
    "enable_keyword": {"site": "us", "keyword_id": 3},
    "update_campaign": {"site": "us", "campaign_id": 1, "daily_budget": 60.0},
    "create_campaign": {"site": "us", "name": "US Cork - Manual", "targeting": "manual", "daily_budget": 15.0},
    "create_ad_group": {"site": "us", "campaign_id": 1, "name": "Cork", "default_bid": 0.75},
    "create_keyword": {"site": "us", "ad_group_id": 1, "text": "cork yoga mat", "match_type": "exact", "bid": 0.9},
    "create_product_target": {"site": "us", "ad_group_id": 1, "asin": "B0CORKMAT1", "bid": 0.9},
    "create_negative": {"site": "us", "campaign_id": 2, "text": "cork yoga mat", "match_type": "negative_exact"},
    "pause_product_ads": {"site": "us", "sku": "MAT-BLUE"},
}
WRITE_TOOLS = sorted(PROPOSALS)
ADDITIVE = {"create_campaign", "create_ad_group", "create_keyword", "create_product_target", "create_negative"}

# What an approver saw that no longer holds (updates only: a create has no `before`).
STALE_BEFORE = {
    "update_bid": {"bid": 9.99},
    "pause_keyword": {"state": "paused"},
    "enable_keyword": {"state": "enabled"},
    "update_campaign": {"daily_budget": 49.0},
    "pause_product_ads": {"product_ad #1 state": "paused"},
}

# The same proposal pointing at an object of site `de` (or at nothing at all).
FOREIGN = {
    "update_bid": ({"keyword_id": 7}, "keyword 7 does not exist on site us; list_keywords shows the ids"),
    "pause_keyword": ({"keyword_id": 7}, "keyword 7 does not exist on site us; list_keywords shows the ids"),
    "enable_keyword": ({"keyword_id": 7}, "keyword 7 does not exist on site us; list_keywords shows the ids"),
    "update_campaign": ({"campaign_id": 5}, "campaign 5 does not exist on site us; list_campaigns shows the ids"),
    "create_campaign": ({"profile_id": 3}, "ad profile 3 does not exist on site us; list_profiles shows the ids"),
    "create_ad_group": ({"campaign_id": 5}, "campaign 5 does not exist on site us; list_campaigns shows the ids"),
    "create_keyword": ({"ad_group_id": 5}, "ad group 5 does not exist on site us; list_ad_groups shows the ids"),
    "create_product_target": ({"ad_group_id": 5}, "ad group 5 does not exist on site us; list_ad_groups shows the ids"),
    "create_negative": ({"campaign_id": 5}, "campaign 5 does not exist on site us; list_campaigns shows the ids"),
    "pause_product_ads": ({"sku": "MAT-GREEN"}, "no product ads advertise SKU 'MAT-GREEN' on site us; list_product_ads shows them"),
}

# Arguments the tool's schema refuses before anything runs.
BAD = {
    "update_bid": ({"bid": -1}, "bid: Input should be greater than 0"),
    "pause_keyword": ({"keyword_id": "first"}, "keyword_id: Input should be a valid integer, unable to parse string as an integer"),
    "enable_keyword": ({"keyword_id": None}, "keyword_id: Input should be a valid integer"),
    "update_campaign": ({"state": "archived"}, "state: Input should be 'enabled' or 'paused'"),
    "create_campaign": ({"targeting": "semi"}, "targeting: Input should be 'auto' or 'manual'"),
    "create_ad_group": ({"default_bid": 0}, "default_bid: Input should be greater than 0"),
    "create_keyword": ({"match_type": "negative_exact"}, "match_type: Input should be 'exact', 'phrase' or 'broad'"),
    "create_product_target": ({"bid": 0}, "bid: Input should be greater than 0"),
    "create_negative": ({"match_type": "exact"}, "match_type: Input should be 'negative_exact' or 'negative_phrase'"),
    "pause_product_ads": ({"sku": ""}, "sku: String should have at least 1 character"),
}


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_dry_run_describes_the_change_without_a_token_and_writes_nothing(ads, snapshot, tool):
    before = snapshot()
    result = await ads.ok(tool, **PROPOSALS[tool], dry_run=True)
    assert (result["tool"], result["site"], result["dry_run"], result["applied"], result["replayed"]) == (
        tool, "us", True, False, False)
    assert result["changes"] and result["created_id"] is None
    assert snapshot() == before


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_without_a_token_the_write_is_refused_and_nothing_changes(ads, snapshot, tool):
    before = snapshot()
    message = await ads.error(tool, **PROPOSALS[tool])
    assert message.startswith(f"CONFIRMATION_REQUIRED: {tool} changes the marketplace and needs an approval token")
    assert snapshot() == before


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_token_for_other_arguments_or_another_secret_is_refused(ads, snapshot, tool):
    before = snapshot()
    other = {**PROPOSALS[tool], "site": "de"}
    assert (await ads.error(tool, **PROPOSALS[tool], approval_token=ads.token(tool, other))) == (
        "CONFIRMATION_REQUIRED: the approval token does not cover these arguments; they differ from what was approved")
    forged = ads.token(tool, PROPOSALS[tool], secret="not-the-secret")
    assert (await ads.error(tool, **PROPOSALS[tool], approval_token=forged)).startswith(
        "CONFIRMATION_REQUIRED: the approval token was refused (bad signature)")
    assert snapshot() == before


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_valid_token_applies_the_dry_run_exactly_once(ads, snapshot, tool):
    preview = await ads.ok(tool, **PROPOSALS[tool], dry_run=True)
    first = await ads.approved(tool, **PROPOSALS[tool], idempotency_key=f"op-{tool}")
    after_first = snapshot()
    again = await ads.approved(tool, **PROPOSALS[tool], idempotency_key=f"op-{tool}")
    assert snapshot() == after_first
    expected = {**preview, "dry_run": False, "applied": True}
    if tool in ADDITIVE:
        assert isinstance(first["created_id"], int)
        expected["created_id"] = first["created_id"]
    assert first == expected
    assert again == {**expected, "replayed": True}


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_the_token_nonce_is_the_idempotency_key_when_none_is_given(ads, snapshot, tool):
    await ads.approved(tool, operation_id=41, **PROPOSALS[tool])
    after_first = snapshot()
    again = await ads.approved(tool, operation_id=41, **PROPOSALS[tool])
    assert again["replayed"] is True
    assert snapshot() == after_first


@pytest.mark.parametrize("tool", sorted(STALE_BEFORE))
async def test_a_stale_expected_before_answers_conflict_and_changes_nothing(ads, snapshot, tool):
    before = snapshot()
    message = await ads.error(tool, **PROPOSALS[tool], expected_before=STALE_BEFORE[tool],
                              approval_token=ads.token(tool, PROPOSALS[tool]))
    assert message.startswith("CONFLICT: ") and "changed since the proposal" in message
    assert snapshot() == before


@pytest.mark.parametrize("tool", sorted(STALE_BEFORE))
async def test_the_before_of_the_dry_run_is_accepted_as_expected_before(ads, tool):
    preview = await ads.ok(tool, **PROPOSALS[tool], dry_run=True)
    result = await ads.approved(tool, **PROPOSALS[tool], expected_before=preview["before"])
    assert result["applied"] is True


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_bad_arguments_answer_validation_failed(ads, snapshot, tool):
    before = snapshot()
    change, message = BAD[tool]
    arguments = {**PROPOSALS[tool], **change}
    assert await ads.error(tool, **arguments, approval_token=ads.token(tool, arguments)) == (
        f"VALIDATION_FAILED: {tool}: {message}")
    assert snapshot() == before


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_ids_of_another_site_are_not_found(ads, snapshot, tool):
    before = snapshot()
    change, message = FOREIGN[tool]
    arguments = {**PROPOSALS[tool], **change}
    assert await ads.error(tool, **arguments, dry_run=True) == f"NOT_FOUND: {message}"
    assert await ads.error(tool, **arguments, approval_token=ads.token(tool, arguments)) == f"NOT_FOUND: {message}"
    assert snapshot() == before


@pytest.mark.parametrize("tool", WRITE_TOOLS)
@pytest.mark.parametrize("site", ["fr", ""])
async def test_an_unknown_or_empty_site_answers_site_scope_required(ads, tool, site):
    arguments = {**PROPOSALS[tool], "site": site}
    message = await ads.error(tool, **arguments, dry_run=True)
    assert message.startswith("SITE_SCOPE_REQUIRED: ") and message.endswith("pass one of: de, us")


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_missing_site_answers_site_scope_required(ads, tool):
    arguments = {k: v for k, v in PROPOSALS[tool].items() if k != "site"}
    assert await ads.error(tool, **arguments, dry_run=True) == (
        f"SITE_SCOPE_REQUIRED: {tool} needs a site (e.g. 'us', 'de', 'jp')")


async def test_a_nonce_spent_on_another_write_answers_conflict(ads):
    await ads.approved("update_bid", operation_id=7, **PROPOSALS["update_bid"])
    message = await ads.error("pause_keyword", **PROPOSALS["pause_keyword"],
                              approval_token=ads.token("pause_keyword", PROPOSALS["pause_keyword"], operation_id=7))
    assert message.startswith("CONFLICT: this approval token was already used for a different write (update_bid)")


async def test_get_write_status_tells_applied_refused_and_unknown_nonces(ads):
    """The write contract's read tool: what reconciliation asks about a nonce whose answer was lost."""
    from tests.servers.ads.conftest import test_nonce

    applied = await ads.approved("update_bid", operation_id=11, **PROPOSALS["update_bid"])
    status = await ads.ok("get_write_status", site="us", nonce=test_nonce(11))
    assert {k: status[k] for k in ("nonce", "state", "tool", "site")} == {
        "nonce": test_nonce(11), "state": "applied", "tool": "update_bid", "site": "us"}
    assert status["result"] == {**applied, "replayed": False} and status["at"]
    await ads.error("update_bid", **PROPOSALS["update_bid"], expected_before={"bid": 99.0},
                    approval_token=ads.token("update_bid", PROPOSALS["update_bid"], operation_id=12))
    refused = await ads.ok("get_write_status", site="us", nonce=test_nonce(12))
    assert (refused["state"], refused["result"]["code"]) == ("refused", "CONFLICT")
    never = await ads.ok("get_write_status", site="us", nonce=test_nonce(13))
    assert never == {"nonce": test_nonce(13), "state": "unknown", "tool": None, "site": "us", "at": None, "result": None}
    # Another site's view of the same nonce says nothing about it.
    assert (await ads.ok("get_write_status", site="de", nonce=test_nonce(11)))["state"] == "unknown"
    assert (await ads.error("get_write_status", site="us", nonce="short")).startswith("VALIDATION_FAILED: ")
