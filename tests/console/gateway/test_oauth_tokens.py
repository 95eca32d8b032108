"""The gateway's tokens after sign-in: the grant checked on every request (audience, expiry, the person), refresh
rotation with the whole sign-in revoked when a spent refresh token comes back, and revocation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from console.gateway.groups import ToolGroups
from console.gateway.models import OAuthToken
from console.gateway.oauth import ACCESS_PREFIX
from console.models import User
from mcp_bridge.errors import AuthRequired, SessionExpired
from tests.console.gateway.oauth_support import (
    ADMIN,
    BASE,
    GROUP,
    GROUP_JP,
    SELLER,
    AuthServer,
    auth_server,
    exchange,
    gateway_audit,
    refresh,
    register,
    revoke,
    signed_in_tokens,
)
from tests.support.oidc_provider import OIDCProvider, OIDCUser

GROUP_URL = f"{BASE}/mcp/{GROUP}"
ACCESS_TTL_S, REFRESH_TTL_S = 60, 600


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AuthServer]:
    oidc = OIDCProvider(user=OIDCUser(SELLER, "Sam Seller")).start()
    try:
        with auth_server(tmp_path, oidc=oidc, gateway_access_token_ttl_s=ACCESS_TTL_S,
                         gateway_refresh_token_ttl_s=REFRESH_TTL_S) as running:
            yield running
    finally:
        oidc.close()


def test_grant_is_bound_to_its_resource(server: AuthServer) -> None:
    client, tokens = signed_in_tokens(server)
    access = tokens["access_token"]
    grant = server.provider.grant(access, resource=GROUP_URL + "/")
    assert (grant.user, grant.group, grant.client_id, grant.scopes) == (SELLER, GROUP, client["client_id"], ("mcp",))
    for elsewhere in (f"{BASE}/mcp", f"{BASE}/mcp/{GROUP_JP}"):
        with pytest.raises(AuthRequired, match=f"not {elsewhere}") as refused:
            server.provider.grant(access, resource=elsewhere)
        assert not isinstance(refused.value, SessionExpired)


@pytest.mark.parametrize("token", ["", "garbage", "ock_0123456789abcdef", ACCESS_PREFIX + "0" * 43])
def test_unknown_tokens_are_refused(server: AuthServer, token: str) -> None:
    with pytest.raises(AuthRequired) as refused:
        server.provider.grant(token, resource=GROUP_URL)
    assert type(refused.value) is AuthRequired and f"sign in again at {GROUP_URL}" in refused.value.message


def test_a_refresh_token_is_not_an_access_token(server: AuthServer) -> None:
    _, tokens = signed_in_tokens(server)
    with pytest.raises(AuthRequired):
        server.provider.grant(tokens["refresh_token"], resource=GROUP_URL)


def test_an_expired_access_token_asks_for_refresh_and_refresh_works(server: AuthServer) -> None:
    client, tokens = signed_in_tokens(server)
    server.clock.advance(ACCESS_TTL_S + 1)
    with pytest.raises(SessionExpired) as expired:
        server.provider.grant(tokens["access_token"], resource=GROUP_URL)
    assert expired.value.code == "SESSION_EXPIRED"
    assert "refresh" in expired.value.message and f"sign in again at {GROUP_URL}" in expired.value.message
    renewed = refresh(server, client, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert server.provider.grant(renewed.json()["access_token"], resource=GROUP_URL).user == SELLER


def test_an_expired_refresh_token_means_signing_in_again(server: AuthServer) -> None:
    client, tokens = signed_in_tokens(server)
    server.clock.advance(REFRESH_TTL_S + 1)
    expired = refresh(server, client, tokens["refresh_token"])
    assert (expired.status_code, expired.json()["error"]) == (400, "invalid_grant")
    assert "expired" in expired.json()["error_description"]
    assert gateway_audit(server.runtime, "gateway_token_revoked") == []  # expiry is not a reuse


def test_refresh_rotates_and_a_spent_refresh_token_revokes_the_sign_in(server: AuthServer) -> None:
    client, first = signed_in_tokens(server)
    second = refresh(server, client, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert second["expires_in"] == ACCESS_TTL_S
    with pytest.raises(AuthRequired):  # the previous round's access token ended with the rotation
        server.provider.grant(first["access_token"], resource=GROUP_URL)
    assert server.provider.grant(second["access_token"], resource=GROUP_URL).user == SELLER

    replay = refresh(server, client, first["refresh_token"])
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    with pytest.raises(AuthRequired):
        server.provider.grant(second["access_token"], resource=GROUP_URL)
    assert refresh(server, client, second["refresh_token"]).status_code == 400
    revoked = gateway_audit(server.runtime, "gateway_token_revoked")
    assert [(r.actor, r.outcome, r.detail["reason"]) for r in revoked][-1] == (SELLER, "refused", "refresh_reused")
    assert revoked[-1].detail["ended"] == 2  # the second round's access and refresh token

    _, other = signed_in_tokens(server, client=client)  # another sign-in of the same client is not touched
    assert server.provider.grant(other["access_token"], resource=GROUP_URL).user == SELLER


def test_refresh_belongs_to_its_client(server: AuthServer) -> None:
    _, tokens = signed_in_tokens(server)
    intruder = register(server, client_name="Intruder")
    assert refresh(server, intruder, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert exchange(server, intruder, "no-such-code", "v" * 43).json()["error"] == "invalid_grant"


def test_revoking_either_token_ends_the_sign_in(server: AuthServer) -> None:
    client, tokens = signed_in_tokens(server)
    assert revoke(server, client, tokens["access_token"]).status_code == 200
    with pytest.raises(AuthRequired):
        server.provider.grant(tokens["access_token"], resource=GROUP_URL)
    assert refresh(server, client, tokens["refresh_token"]).status_code == 400
    client2, tokens2 = signed_in_tokens(server)
    assert revoke(server, client2, tokens2["refresh_token"]).status_code == 200
    with pytest.raises(AuthRequired):
        server.provider.grant(tokens2["access_token"], resource=GROUP_URL)
    ok = [r for r in gateway_audit(server.runtime, "gateway_token_revoked") if r.outcome == "ok"]
    assert [(r.actor, r.detail["reason"], r.detail["ended"]) for r in ok] == [(SELLER, "revoked", 2)] * 2


def test_a_person_switched_off_loses_access_and_refresh(server: AuthServer) -> None:
    client, tokens = signed_in_tokens(server)
    with server.provider.store.write() as s:
        user = s.get(User, SELLER)
        assert user is not None
        user.active = False
    with pytest.raises(AuthRequired, match="no longer an active console user"):
        server.provider.grant(tokens["access_token"], resource=GROUP_URL)
    assert "no longer an active" in refresh(server, client, tokens["refresh_token"]).json()["error_description"]


def test_a_group_switched_off_stops_refresh(server: AuthServer) -> None:
    client, tokens = signed_in_tokens(server)
    ToolGroups(server.runtime.engine, server.runtime.bridge.audit).set_enabled(GROUP, False, actor=ADMIN)
    assert "switched off" in refresh(server, client, tokens["refresh_token"]).json()["error_description"]


def test_only_hashes_are_stored(server: AuthServer) -> None:
    _, tokens = signed_in_tokens(server)
    with server.provider.store.read() as s:
        stored = {(row.kind, row.token_hash) for row in s.scalars(select(OAuthToken))}
    assert {kind for kind, _ in stored} == {"access", "refresh"}
    assert not {tokens["access_token"], tokens["refresh_token"]} & {h for _, h in stored}
    rows = server.runtime.bridge.audit.query(limit=500)
    assert not any(tokens["access_token"] in str(r.detail) or tokens["refresh_token"] in str(r.detail) for r in rows)


def test_grant_takes_one_quick_lookup(server: AuthServer) -> None:
    _, tokens = signed_in_tokens(server)
    started = time.perf_counter()
    for _ in range(200):
        server.provider.grant(tokens["access_token"], resource=GROUP_URL)
    assert (time.perf_counter() - started) / 200 < 0.01  # a loose bound: one indexed SQLite read is well under 1 ms
