"""Texts in English and Simplified Chinese: every marked text translated, `_()` per run, the browser's language."""

from __future__ import annotations

import ast
import contextvars
import threading
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from console import i18n
from console.__main__ import main
from console.approvals.evidence import evidence_summary
from console.approvals.queue import Decision, decision_report
from console.cli import i18n as catalogues
from console.gateway.consent import Consent, PendingRequest
from console.gateway.pages import consent_page, error_page
from console.i18n import _, language_from_accept, ngettext, speaking, use
from console.users import UserInfo

ROOT = Path(__file__).resolve().parents[2]
MARKERS = frozenset({"_", "ngettext", "N_"})


@pytest.fixture(scope="module")
def template() -> Catalog:
    return catalogues.extract()


def test_every_text_people_read_has_a_chinese_translation(template: Catalog) -> None:
    """Fails on a marked text the catalogue lacks, leaves empty, marks fuzzy, or gives other placeholders."""
    assert len(template) > 300
    gaps = catalogues.gaps(template, catalogues.load("zh"))
    assert [f"{g.problem}: {g.msgid!r} ({g.where})" for g in gaps] == [], (
        "run `python -m console i18n update` and translate these in console/locales/zh/LC_MESSAGES/messages.po")


def marked_calls(path: Path) -> list[tuple[int, str]]:
    """(line, kind) of each `_()`, `ngettext()` or `N_()` whose text is built before it is translated."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS and node.args:
            for arg in node.args[:2] if node.func.id == "ngettext" else node.args[:1]:
                # A lookup of a marked constant (`_(LABELS.get(code, code))`) is fine; a text built by formatting,
                # joining or adding is not.
                built = isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr in {
                    "format", "join", "replace", "capitalize", "title", "upper", "lower"}
                if isinstance(arg, ast.JoinedStr | ast.BinOp) or built:
                    found.append((node.lineno, type(arg).__name__))
    return found


def test_texts_are_translated_whole_never_built_first() -> None:
    """An f-string, a `+`/`%` or a `.format()` inside `_()` makes a text no catalogue can hold: fill fields after."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py")), *sorted((ROOT / "console").rglob("*.py"))]
    offenders = {str(p.relative_to(ROOT)): calls for p in files if (calls := marked_calls(p))}
    assert offenders == {}


def test_the_checker_reports_each_kind_of_gap() -> None:
    template = Catalog()
    for text in ("Approve", "Reject", "Waiting", "{count} waiting", "Rotate", "{name} is on"):
        template.add(text)
    template.add(("{count} tool", "{count} tools"))
    zh = Catalog(locale="zh_Hans_CN")
    zh.add("Approve", "批准")
    zh.add("Reject", "")
    zh.add("Waiting", "待审批", flags=["fuzzy"])
    zh.add("{count} waiting", "{n} 项待审批")
    zh.add("{name} is on", "{name 已开启")
    zh.add(("{count} tool", "{count} tools"), ("{count} 个工具",))
    problems = {g.msgid: g.problem for g in catalogues.gaps(template, zh)}
    assert problems == {"Reject": "untranslated", "Waiting": "fuzzy (a guess to check)",
                        "{count} waiting": "placeholders differ: ['n'] for ['count']", "Rotate": "missing",
                        "{name} is on": problems["{name} is on"]}
    assert problems["{name} is on"].startswith("malformed placeholder")


def test_check_exits_2_and_lists_what_is_missing(monkeypatch, capsys) -> None:
    monkeypatch.setattr(catalogues, "load", lambda lang: Catalog(locale="zh_Hans_CN"))
    assert main(["i18n", "check"]) == 2
    out = capsys.readouterr().out
    assert "zh: missing: 'Approve' (pages/approvals.py)" in out and "without a translation" in out


def test_translations_follow_the_language_of_the_run() -> None:
    assert (_("Approve"), i18n.current()) == ("Approve", "en")
    with speaking("zh"):
        assert (_("Approve"), i18n.current()) == ("批准", "zh")
        assert ngettext("{count} tool, {writes}", "{count} tools, {writes}", 1).format(count=1, writes="只读") == (
            "1 个工具，只读")
        assert _("a text nobody marked") == "a text nobody marked"  # English until it is translated
    assert _("Approve") == "Approve"


def test_use_sets_the_language_for_the_rest_of_the_run_and_an_unknown_one_is_english() -> None:
    def run(lang: str | None) -> tuple[str, str, str]:
        chosen = use(lang)
        return chosen, _("Reject"), evidence_summary({"kind": "sku", "window": {"days": 7},
                                                        "metrics": {"days_of_supply": 9.5, "velocity_per_day": 2}})

    assert contextvars.copy_context().run(run, "zh") == ("zh", "拒绝", "可售 9.5 天 · 2.0/天 · 7 天")
    assert contextvars.copy_context().run(run, "zh_Hans_CN")[0] == "zh"
    for unknown in ("fr", "zh-TW", "", None):
        assert contextvars.copy_context().run(run, unknown) == ("en", "Reject", "9.5 d of supply · 2.0/day · 7 d")
    assert i18n.current() == "en"  # this thread's run was never switched


def test_each_thread_has_its_own_language() -> None:
    """Streamlit runs each session's script in its own thread: one person's Chinese is not another's."""
    seen: dict[str, str] = {}
    switched, checked = threading.Event(), threading.Event()

    def chinese() -> None:
        use("zh")
        switched.set()
        checked.wait(5)
        seen["zh"] = _("History")

    def english() -> None:
        switched.wait(5)
        seen["en"] = _("History")
        checked.set()

    threads = [threading.Thread(target=chinese), threading.Thread(target=english)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"zh": "历史", "en": "History"}


def test_console_texts_are_translated_where_they_are_built() -> None:
    decisions = [Decision(1, True, "succeeded"), Decision(2, False, code="CONFLICT", message="#2 was decided")]
    with speaking("zh"):
        assert decision_report(decisions, "Approved") == [("success", "已批准 1/2 项：#1。"),
                                                          ("warning", "已被处理 — #2 was decided。")]
    assert decision_report(decisions[:1], "Approved", edited=True) == [("success", "Approved #1 with your edit.")]


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("zh", "zh"),
    ("zh-Hans-CN", "zh"),
    ("zh-SG", "zh"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("en;q=0.5, zh-CN;q=0.9", "zh"),
    ("fr-FR,fr;q=0.9,zh-CN;q=0.5", "zh"),
    ("zh-TW,zh-HK;q=0.9", "en"),
    ("zh-Hant,en;q=0.1", "en"),
    ("zh-CN;q=0, en", "en"),
    ("de-DE", "en"),
    ("*", "en"),
    ("", "en"),
    (None, "en"),
    ("zh-CN;q=oops, en", "en"),
])
def test_the_browsers_language_picks_chinese_or_english(header: str | None, lang: str) -> None:
    assert language_from_accept(header) == lang


def test_the_gateway_pages_speak_the_language_given() -> None:
    request = PendingRequest(id="r1", client_id="c", client_name="Claude Desktop", redirect_uri="http://127.0.0.1:5/cb",
                             resource="http://gw/mcp", group=None, user=None)
    person = UserInfo(email="seller@demo.local", name="Seller", active=True, roles=frozenset({"seller"}),
                      sites=frozenset({"us"}))
    consent = Consent(request=request, person=person, sites=("us",), form_token="t")
    english = consent_page(consent).body.decode()
    chinese = consent_page(consent, lang=language_from_accept("zh-CN,zh;q=0.9")).body.decode()
    assert '<html lang="en">' in english and ">Allow</button>" in english
    assert '<html lang="zh-Hans">' in chinese and ">允许</button>" in chinese and "<title>允许访问运营控制台？</title>" in chinese
    assert "<strong>Claude Desktop</strong> 希望代你操作。" in chinese
    refused = error_page("Sign-in refused", "no such user", status=403, lang="zh").body.decode()
    assert "<h1>登录被拒绝</h1>" in refused and "no such user" in refused
    assert i18n.current() == "en"
