"""AppTest fixtures: one seeded console + market per session, the app signed in as a demo user per test."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from console.runtime import Runtime
from console.settings import Settings
from mcp_bridge.store import OperationRow, Store, utcnow
from tests.support.app_server import MARKET_TODAY, seed_databases

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
OIDC_AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "k3J9q-x7LmPz2Wv8Rt5Yb1Nc4Hd6Fg0AsQe",
             "client_id": "id", "client_secret": "secret",
             "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}
ENV_KEYS = ("CONSOLE_ENV", "CONSOLE_DATABASE_URL", "MARKET_DATABASE_URL", "MARKET_TODAY", "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL", "CONSOLE_ADMIN_EMAILS", "CONSOLE_COOKIE_SECRET", "CONSOLE_APPROVAL_SECRET",
            "CONSOLE_KEYRING")


class NavigationPagesManager(PagesManager):
    """Streamlit's PagesManager as the running server has it once app.py has called st.navigation.

    st.navigation switches the process out of the old pages/-folder mode for good; AppTest resets that flag
    before every run, so without this each run after the first would execute a page file without app.py.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(scope="session", autouse=True)
def _navigation_mode() -> Iterator[None]:
    original = app_test_module.PagesManager
    app_test_module.PagesManager = NavigationPagesManager
    yield
    app_test_module.PagesManager = original


@pytest.fixture(scope="session")
def ui_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """Env pointing at seeded tmp databases; the app's cached runtime is built from it."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    console_url, market_url = seed_databases(tmp_path_factory.mktemp("ui-dbs"))
    for key in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CONSOLE_ADMIN_EMAILS"):
        os.environ.pop(key, None)
    os.environ.update({"CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url, "MARKET_DATABASE_URL": market_url,
                       "MARKET_TODAY": MARKET_TODAY.isoformat(),
                       "CONSOLE_KEYRING": console_url.split("///", 1)[1].replace("console.db", "keyring.json")})
    st.cache_resource.clear()
    runtime = Runtime.create(Settings())
    yield runtime
    runtime.close()
    st.cache_resource.clear()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def app(ui_runtime: Runtime) -> Callable[..., AppTest]:
    """`app("seller@demo.local")`: the app after the demo sign-in of that user (None: not signed in)."""

    def signed_in(email: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        if email is not None and not email.endswith("@demo.local"):
            # Someone who is not a demo user signs in through OIDC (st.user seeded as after st.login).
            at.secrets = {"auth": OIDC_AUTH}
            at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0], "email_verified": True}
            at.run()
            assert not at.exception, at.exception
            return at
        at.run()
        assert not at.exception, at.exception
        if email is not None:
            at.button(key=f"demo-{email}").click().run()
            assert not at.exception, at.exception
        return at

    return signed_in


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def make_operation(ui_runtime: Runtime) -> Callable[..., OperationRow]:
    """A pending operation row as the gate would file it (a factory: override any field)."""

    def make(**overrides) -> OperationRow:
        now = utcnow()
        values = {
            "batch_id": f"chat-{uuid.uuid4().hex[:16]}", "status": "proposed", "site": "us", "server": "ads",
            "tool": "update_bid", "arguments": {"site": "us", "keyword_id": 1, "bid": 1.2},
            "preview": {"target": "keyword #1 'yoga mat' (exact)", "summary": "bid: 1.50 → 1.20",
                        "before": {"bid": 1.5}, "after": {"bid": 1.2},
                        "changes": [{"field": "bid", "before": 1.5, "after": 1.2}],
                        "impact": {"daily_spend_delta": -4.2}},
            "reason": "ACOS above target", "proposer": "seller@demo.local", "source_kind": "chat",
            "source_ref": None, "created_at": now, "expires_at": now + dt.timedelta(hours=24), "edit_history": [],
            "version": 1,
        }
        values.update(overrides)
        with Store(ui_runtime.engine).write() as session:
            row = OperationRow(**values)
            session.add(row)
            session.flush()
            ui_runtime.bridge.audit.append("proposed", actor=row.proposer, channel="chat", site=row.site,
                                           tool=f"{row.server}__{row.tool}", arguments=row.arguments,
                                           outcome="pending", detail={"operation_id": row.id}, session=session)
        return row

    return make
