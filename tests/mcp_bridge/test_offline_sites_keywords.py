"""The offline assistant and the site a message names, keywords found by their words, orders that need tracking."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from sqlalchemy import update

from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.named_sites import choose_site, sites_named
from mcp_bridge.agent.offline.assistant import LABEL, OfflineAgent
from mcp_bridge.agent.offline.intents import Intent, parse
from mcp_bridge.agent.offline.keyword_match import close_matches, fold, parse_query, pick
from mcp_bridge.store import OperationRow
from mcp_bridge.types import Caller
from tests.support.chat import market_rows, open_chat_runtime, run_turn
from tests.support.market import copy_sqlite

TODAY = dt.date(2026, 11, 20)
SELLER = Caller("seller@demo.local", frozenset({"seller"}), frozenset({"us", "de"}), "chat")
SUGGESTION = re.compile(r"\"(lower the bid of keyword (?:\d+|'[^']+') to ([\d.]+))\"")


# -- which site a message names (pure) -------------------------------------------------------------

@pytest.mark.parametrize(("text", "named"), [
    ("show the campaigns with the highest ACOS on jp", ["jp"]),
    ("orders to ship on the JP site", ["jp"]),
    ("which keywords on site us have ACOS over 30%?", ["us"]),
    ("keywords of amazon.de with no orders", ["de"]),
    ("stock in Germany and Japan", ["de", "jp"]),
    ("US站的订单", ["us"]),
    ("日本站的广告活动", ["jp"]),
    ("in the US, which campaigns run out of budget?", ["us"]),
    ("give us the weekly report", []),
    ("lower the bid to US$1.20", []),
    ("add 'japan' as a negative keyword", []),
    ("ship US261120-0031234 via UPS 1Z999AA10123456784", []),
    ("do it", []),
])
def test_the_sites_a_message_names(text, named):
    assert sites_named(text, also=SELLER.sites) == named


@pytest.mark.parametrize(("text", "active", "site", "refusal"), [
    ("which keywords have ACOS over 30%?", "de", "de", None),
    ("which keywords have ACOS over 30% on US?", "de", "us", None),
    ("compare US and DE", "de", "de", None),
    ("highest ACOS on jp", "de", "de", "JP is outside your scope; your sites: DE, US. Ask about one of those, or ask an admin "
                                      "for access to JP."),
    ("日本站的订单", "us", "us", "JP 不在你的站点范围内；你的站点：DE、US。请询问你的站点，或请管理员开通 JP 的权限。"),
    ("amazon.co.uk or amazon.fr?", "us", "us", "UK, FR are outside your scope; your sites: DE, US. Ask about one of those, "
                                               "or ask an admin for access."),
])
def test_a_named_site_wins_or_is_refused_never_replaced(text, active, site, refusal):
    choice = choose_site(text, SELLER, active)
    assert (choice.site, choice.refusal) == (site, refusal)


# -- keywords by their words (pure) ----------------------------------------------------------------

KEYWORDS = [{"id": i, "text": t, "match_type": m, "state": s, "bid": 1.0} for i, t, m, s in [
    (1, "günstig nachhaltig yogamatte", "exact", "enabled"), (2, "günstig nachhaltig yogamatte", "phrase", "enabled"),
    (3, "nachhaltig günstig yogamatte", "exact", "enabled"), (4, "yogamatte dick", "exact", "enabled"),
    (5, "groß set yogamatte", "broad", "enabled"), (6, "premium yoga mat", "phrase", "archived"),
    (7, "yoga mat", "exact", "paused"), (8, "thick yoga mat", "exact", "enabled"),
]]


@pytest.mark.parametrize(("typed", "picked"), [
    ("dick yogamatte", 4),  # any order
    ("YOGAMATTE Gross Set", 5),  # case, ß typed as ss
    ("yoga mat", 7),  # the keyword whose words are exactly these, though "thick yoga mat" has them too
    ("exact keyword 'nachhaltig günstig yogamatte'", 3),  # the words in this order, and a match type
    ("phrase gunstig nachhaltig yogamatte", 2),
    ("gunstig nachhaltig yogamatte", None),  # two keywords in this order (exact and phrase): never a guess
    ("premium yoga mat", None),  # archived
    ("yogamatte", None),
])
def test_a_keyword_is_found_by_its_words(typed, picked):
    found = pick(parse_query(typed), KEYWORDS)
    assert (found or {}).get("id") == picked


def test_close_matches_put_every_word_matches_first():
    rows, total = close_matches(parse_query("yoga mat"), KEYWORDS)
    assert [k["id"] for k in rows][:2] == [7, 8] and 6 not in [k["id"] for k in rows] and total == len(rows)
    assert fold("Größe ÜBER") == "grosse uber" and fold("ヨガマット") == "ヨガマット"


@pytest.mark.parametrize(("text", "bid"), [("lower the bid of keyword yogamatte to 1,20 €", 1.2),
                                           ("lower the bid of keyword ヨガマット to ¥1,200", 1200.0),
                                           ("lower the bid of keyword yoga mat on DE to 0.95", 0.95)])
def test_bids_are_read_as_people_write_them(text, bid):
    intent = parse(text)
    assert intent is not None and intent.kind == "set_bid" and intent.params["bid"] == bid
    assert intent == Intent("set_bid", {"keyword": intent.params["keyword"], "bid": bid})
    assert "DE" not in str(intent.params["keyword"])


# -- end to end on the demo market ------------------------------------------------------------------

@pytest.fixture(scope="module")
def env(market_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline-sites")
    copy_sqlite(market_template, folder / "market.db")
    market_url = f"sqlite:///{folder / 'market.db'}"
    runtime = open_chat_runtime(f"sqlite:///{folder / 'console.db'}", market_url)
    agent = OfflineAgent(runtime.bridge, Conversations(runtime.engine), today=TODAY)
    yield runtime, agent, market_url
    runtime.close()


@pytest.fixture(autouse=True)
def empty_queue(request):
    """Each test starts with nothing waiting (the same suggestion asked twice would be filed once)."""
    yield
    if "env" in request.fixturenames:
        with request.getfixturevalue("env")[0].bridge.store.write() as s:
            s.execute(update(OperationRow).where(OperationRow.status == "proposed").values(status="expired"))


def ask(env, text, *, site, user="seller@demo.local"):
    runtime, agent, _ = env
    return run_turn(agent, runtime.users.caller(user, "chat"), text, site=site)


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| id |", "| order |"))]


@pytest.mark.parametrize(("site", "symbol"), [("us", "$"), ("de", "€")])
def test_the_readme_keyword_by_words_lists_close_matches_in_the_sites_currency(env, site, symbol):
    result = ask(env, "lower the bid of keyword yoga mat to $1.20", site=site)
    assert result.proposed == [] and {args["site"] for _, args in result.tools} == {site}
    assert "say which one by id" in result.text.lower() and "yoga" in result.text.lower()
    rows = table_rows(result.text)
    assert 1 <= len(rows) <= 8 and all(r.split("|")[5].strip().startswith(symbol) for r in rows)
    assert SUGGESTION.search(result.text)


@pytest.mark.parametrize(("user", "site", "question"), [
    ("seller@demo.local", "us", "which keywords have ACOS over 30%?"),
    ("seller@demo.local", "de", "which keywords have ACOS over 30%?"),
    ("seller-jp@demo.local", "jp", "which keywords have ACOS over 30%?"),
    ("seller@demo.local", "de", "help"),
    ("seller-jp@demo.local", "jp", "help"),
])
def test_the_suggested_change_works_on_every_demo_site(env, user, site, question):
    answer = ask(env, question, site=site, user=user)
    change, bid = SUGGESTION.search(answer.text).groups()
    result = ask(env, change, site=site, user=user)
    (proposed,) = result.proposed
    op = env[0].bridge.gate.get(proposed.operation_id)
    assert (op.tool, op.arguments["site"], op.arguments["bid"]) == ("update_bid", site, float(bid))


def test_a_keyword_typed_in_another_order_without_accents_is_found(env):
    rows = [(i, t) for i, t in market_rows(env[2], "SELECT id, text FROM keywords WHERE site_id='de' AND state != 'archived'")]
    unique = [(i, t) for i, t in rows if not t.isascii()
              and sum(set(t.split()) <= set(o.split()) for _, o in rows) == 1]
    kid, text = unique[0]
    typed = " ".join(reversed("".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                                      if not unicodedata.combining(c)).split()))
    result = ask(env, f"lower the bid of keyword {typed} to 0.95", site="de")
    (proposed,) = result.proposed
    assert env[0].bridge.gate.get(proposed.operation_id).arguments == {"site": "de", "keyword_id": kid, "bid": 0.95}


def test_a_named_site_of_the_seller_is_the_turns_site(env):
    result = ask(env, "which keywords have ACOS over 30% on the US site?", site="de")
    assert result.text.startswith(f"*{LABEL}*") and "*Site US, as your message says (the active site is DE).*" in result.text
    assert [args["site"] for _, args in result.tools] == ["us"]


@pytest.mark.parametrize("text", ["show the 5 campaigns with the highest ACOS on jp", "orders to ship on the JP site"])
def test_a_site_outside_the_scope_is_refused_not_replaced(env, text):
    result = ask(env, text, site="de")
    assert result.tools == [] and result.text == ""
    (error,) = result.errors
    assert (error.code, error.message.split(". ")[0]) == ("SITE_SCOPE_REQUIRED", "JP is outside your scope; your sites: DE, US")
    messages = env[1].conversations.messages(result.conversation_id)
    assert [(m["role"], m["content"][0]["text"]) for m in messages] == [("user", text), ("assistant", error.message)]


def test_orders_to_ship_ask_for_carrier_and_tracking_in_a_short_answer(env):
    result = ask(env, "Mark today's unshipped orders as shipped", site="us")
    assert result.proposed == [] and [t[0] for t in result.tools] == ["commerce__list_orders"]
    text = result.text
    assert text.index("carrier and tracking number") < text.index("| order |")
    waiting = int(re.search(r"(\d+) paid orders on US wait to be shipped", text).group(1))
    rows = table_rows(text)
    assert len(rows) == 10 and f"…and {waiting - 10} more." in text and all("$" in r for r in rows)
    assert re.search(r"\"ship US\d{6}-\d+ via UPS 1Z999AA10123456784\"", text)
    assert len(text.splitlines()) < 25
