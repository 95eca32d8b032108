"""`python -m console secrets service-credential NAME`: the bearer another MCP client sends to a bundled server."""

from __future__ import annotations

import pytest

from console.__main__ import main
from mcp_bridge.keys import Keyring
from servers.common.keys import Keyring as ServerKeyring
from servers.common.keys import check_service_credential


@pytest.fixture
def keyring_path(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "keyring.json")
    monkeypatch.setenv("CONSOLE_APPROVAL_SECRET", "cli-secret")
    monkeypatch.setenv("CONSOLE_KEYRING", path)
    return path


def credential(capsys, server: str) -> str:
    assert main(["secrets", "service-credential", server]) == 0
    return capsys.readouterr().out.strip()


def test_it_prints_what_that_server_accepts_and_follows_a_rotation(keyring_path, capsys) -> None:
    servers = ServerKeyring("cli-secret", keyring_path)
    first = credential(capsys, "ads")
    assert first.startswith("k0.")
    assert check_service_credential(servers, "ads", first)
    assert not check_service_credential(servers, "commerce", first)

    Keyring("cli-secret", keyring_path).rotate()
    second = credential(capsys, "ads")
    assert second != first and check_service_credential(servers, "ads", second)


def test_a_name_that_is_not_a_server_name_is_refused(keyring_path, capsys) -> None:
    assert main(["secrets", "service-credential", "ads; rm -rf /"]) == 2
    assert capsys.readouterr().err.startswith("VALIDATION_FAILED: ")
