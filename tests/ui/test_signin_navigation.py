"""The app shell: demo and OIDC sign-in, refusal in production, navigation and sidebar per role."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, open_page

APP_DIR = Path(APP).parent
ALL_PAGES = ("home", "chat", "my_requests", "approvals", "ads", "inventory", "sales", "reports", "audit", "admin")
# What each demo user may open (admin holds every role); dashboards only when their files exist.
REACHABLE = {
    "seller@demo.local": {"home", "chat", "my_requests", "ads", "inventory", "sales", "reports"},
    "seller-jp@demo.local": {"home", "chat", "my_requests", "ads", "inventory", "sales", "reports"},
    "manager@demo.local": {"home", "ads", "inventory", "sales", "reports"},
    "approver@demo.local": {"home", "approvals", "audit"},
    "admin@demo.local": set(ALL_PAGES),
}
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "k3J9q-x7LmPz2Wv8Rt5Yb1Nc4Hd6Fg0AsQe",
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "title", "subheader", "caption", "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def reachable(at: AppTest) -> set[str]:
    out = set()
    for page in ALL_PAGES:
        try:
            at.switch_page(f"pages/{page}.py")
        except ValueError:
            continue
        out.add(page)
    return out


def test_demo_sign_in_lists_the_demo_users_and_says_it_is_a_demo(app) -> None:
    at = app()
    assert "Demo sign-in — configure [auth] for real sign-in" in texts(at)
    assert [b.key for b in at.button] == [f"demo-{e}" for e in (
        "admin@demo.local", "approver2@demo.local", "approver@demo.local", "manager@demo.local",
        "seller-jp@demo.local", "seller@demo.local")]
    assert "Sam Seller" in texts(at) and "Sites: DE, US" in texts(at)
    assert reachable(at) == set()  # nothing but the sign-in page before signing in


@pytest.mark.parametrize("email", sorted(REACHABLE))
def test_each_role_reaches_exactly_its_pages(app, email: str) -> None:
    at = app(email)
    expected = {p for p in REACHABLE[email] if (APP_DIR / "pages" / f"{p}.py").exists()}
    assert reachable(at) == expected
    for page in sorted(expected):
        open_page(at, page)


def test_seller_sidebar_shows_only_their_sites_and_no_queue(app) -> None:
    at = app("seller@demo.local")
    site = at.sidebar.selectbox[0]
    assert (site.label, site.options, site.value) == ("Active site", ["DE (EUR)", "US (USD)"], "de")
    sidebar = "\n".join(m.value for m in at.sidebar.markdown) + "\n".join(c.value for c in at.sidebar.caption)
    assert "Sam Seller" in sidebar and "Roles: Seller" in sidebar and "Demo sign-in" in sidebar
    assert "Waiting for approval" not in str([p.label for p in at.sidebar.get("page_link")])
    with pytest.raises(ValueError):
        at.switch_page("pages/approvals.py")
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")


def test_approver_sidebar_counts_operations_waiting_on_their_sites(app, make_operation, ui_runtime) -> None:
    before = ui_runtime.bridge.gate.pending_count(ui_runtime.users.caller("approver@demo.local"))
    make_operation(site="jp", arguments={"site": "jp", "keyword_id": 3, "bid": 90})
    at = app("approver@demo.local")
    links = [p.proto.label for p in at.sidebar.get("page_link")]
    assert f"Waiting for approval: {before + 1}" in links


def test_switching_site_is_remembered(app) -> None:
    at = app("seller@demo.local")
    at.sidebar.selectbox[0].set_value("us").run()
    assert at.session_state["console"].site == "us"
    open_page(at, "chat")
    assert "Working on site US" in texts(at)


def test_sign_out_returns_to_the_sign_in_page_and_is_audited(app, ui_runtime) -> None:
    at = app("manager@demo.local")
    at.sidebar.button[0].click().run()
    assert "Pick a demo user" in texts(at)
    row = ui_runtime.bridge.audit.query(actor="manager@demo.local", event="logout", limit=1)[0]
    assert (row.outcome, row.detail) == ("ok", {"mode": "demo"})


def test_oidc_signed_out_user_sees_only_a_sign_in_button(ui_runtime) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": AUTH}
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Demo sign-in" not in texts(at)


def test_oidc_first_time_user_sees_no_access_until_granted(ui_runtime) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": AUTH}
    at.user = {"is_logged_in": True, "email": "fresh.face@example.com", "name": "Fresh Face", "email_verified": True}
    at.run()
    assert not at.exception
    assert "No access yet" in texts(at) and "fresh.face@example.com" in texts(at)
    assert reachable(at) == set()
    ui_runtime.users.grant("fresh.face@example.com", role="seller", actor="admin@demo.local")
    ui_runtime.users.grant("fresh.face@example.com", site="jp", actor="admin@demo.local")
    at.run()
    assert reachable(at) >= {"home", "chat"}
    assert at.sidebar.selectbox[0].options == ["JP (JPY)"]
    logins = ui_runtime.bridge.audit.query(actor="fresh.face@example.com", event="login")
    assert [r.outcome for r in logins] == ["no_access"]  # one login per session, not per rerun


def test_production_without_auth_refuses_to_start(ui_runtime, monkeypatch) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    monkeypatch.setenv("CONSOLE_APPROVAL_SECRET", "a-strong-approval-secret-for-production-xyz")
    monkeypatch.setenv("CONSOLE_AUDIT_SECRET", "a-strong-audit-secret-for-production-xyz")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "The console cannot start" in texts(at)
    assert "CONSOLE_ENV=production needs real sign-in" in texts(at)
    assert not [b for b in at.button]


def test_production_with_default_secrets_refuses_to_start(ui_runtime, monkeypatch) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": AUTH}
    at.run()
    assert "The console cannot start" in texts(at) and "CONSOLE_APPROVAL_SECRET" in texts(at)


@pytest.mark.parametrize(("approval", "audit", "cookie", "refused"), [
    ("x", "a-strong-audit-secret-for-production-xyz", AUTH["cookie_secret"], "CONSOLE_APPROVAL_SECRET must be"),
    ("a-strong-approval-secret-for-production-xyz", "changeme", AUTH["cookie_secret"], "CONSOLE_AUDIT_SECRET must be"),
    ("a-strong-approval-secret-for-production-xyz", "a-strong-audit-secret-for-production-xyz", "x",
     "[auth] cookie_secret must be"),
], ids=["approval x", "audit changeme", "cookie x"])
def test_production_with_a_weak_secret_says_which_and_how_to_fix_it(ui_runtime, monkeypatch, approval, audit, cookie,
                                                                   refused) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    monkeypatch.setenv("CONSOLE_APPROVAL_SECRET", approval)
    monkeypatch.setenv("CONSOLE_AUDIT_SECRET", audit)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": {**AUTH, "cookie_secret": cookie}}
    at.run()
    assert "The console cannot start" in texts(at)
    (error,) = at.error
    assert refused in error.value and 'print(secrets.token_urlsafe(48))' in error.value
    assert not [b for b in at.button]



def test_a_role_without_any_site_is_still_no_access(app, ui_runtime) -> None:
    email = "roles-no-sites@example.com"
    ui_runtime.users.create(email, roles=("approver", "admin"))
    at = app(email)
    assert not at.exception
    assert "No access yet" in texts(at) and reachable(at) == set()
    assert not at.sidebar.get("page_link")  # no link to a page the navigation does not offer


@pytest.mark.parametrize("claim", [{"email_verified": False}, {}], ids=["false", "missing"])
def test_oidc_identity_with_an_unverified_email_is_refused_and_audited(ui_runtime, claim) -> None:
    before = len(ui_runtime.bridge.audit.query(actor="admin@demo.local", event="login", outcome="refused"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": AUTH}
    at.user = {"is_logged_in": True, "email": "Admin@demo.local", "name": "Mallory", **claim}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign-in refused"
    (error,) = at.error
    assert "AUTH_REQUIRED" in error.value and "has not confirmed that admin@demo.local is your address" in error.value
    assert [b.label for b in at.button] == ["Sign in with another account"]
    assert reachable(at) == set() and at.session_state["console"].account is None
    refused = ui_runtime.bridge.audit.query(actor="admin@demo.local", event="login", outcome="refused")
    assert len(refused) == before + 1


def test_oidc_identity_without_email_is_refused_clearly(ui_runtime) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": AUTH}
    at.user = {"is_logged_in": True, "name": "No Mail", "sub": "123"}
    at.run()
    assert not at.exception
    assert any("AUTH_REQUIRED" in e.value and "no email address" in e.value for e in at.error)
    assert reachable(at) == set()
