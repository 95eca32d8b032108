"""`python -m console tools …`: after a server's tool definition changes, an admin reviews and accepts it."""

from __future__ import annotations

from sqlalchemy import create_engine, update

from mcp_bridge.catalog.pins import ToolPin
from tests.console.test_cli_ops import cli  # noqa: F401 - the fixture


def test_a_changed_definition_is_listed_and_only_an_admin_accepts_it(cli, console_url) -> None:  # noqa: F811
    code, tools, _ = cli("tools", "list", "--json")  # first sight pins every tool
    assert code == 0 and {"name": "ads__update_bid", "write": True, "pinned_ok": True} in tools
    engine = create_engine(console_url)
    with engine.begin() as conn:  # as if the server had shipped a new description since it was pinned
        conn.execute(update(ToolPin).where(ToolPin.name == "ads__update_bid").values(sha256="0" * 64))
    engine.dispose()

    code, changed, _ = cli("tools", "list", "--changed", "--json")
    assert (code, changed) == (0, [{"name": "ads__update_bid", "write": True, "pinned_ok": False}])

    code, _, err = cli("tools", "accept", "--all-changed", "--as", "seller@demo.local")
    assert code == 2 and "PERMISSION_DENIED" in err

    code, accepted, _ = cli("tools", "accept", "--all-changed", "--as", "admin@demo.local", "--json")
    assert (code, accepted) == (0, {"accepted": ["ads__update_bid"]})
    code, changed, _ = cli("tools", "list", "--changed", "--json")
    assert (code, changed) == (0, [])
