"""The console's OIDC provider as the gateway's sign-in uses it: authorization URL, code exchange, verified identity."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from mcp_bridge.errors import AuthRequired, UpstreamError

TIMEOUT_S = 10.0
METADATA_TTL_S = 3600.0
ALGORITHMS = ("RS256", "ES256", "PS256")
LEEWAY_S = 60  # clock skew between the console and the provider


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the id_token's e-mail, name and `email_verified` claim (as sent)."""

    email: str
    name: str
    email_verified: object


class OIDCClient:
    """The `[auth]` client (client_id, client_secret, server_metadata_url) with its own redirect URI."""

    def __init__(self, auth: Mapping[str, Any], *, redirect_uri: str) -> None:
        self.client_id = str(auth["client_id"])
        self.client_secret = str(auth["client_secret"])
        self.metadata_url = str(auth["server_metadata_url"])
        self.scope = str(auth.get("client_kwargs", {}).get("scope") or "openid email profile")
        self.redirect_uri = redirect_uri
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: KeySet | None = None

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the person's browser to sign in (PKCE S256, the nonce goes into the id_token)."""
        with self._session() as session:
            url, _ = session.create_authorization_url(self.metadata()["authorization_endpoint"], state=state,
                                                      code_verifier=code_verifier, nonce=nonce)
        return str(url)

    def identity(self, *, code: str, nonce: str, code_verifier: str) -> Identity:
        """Exchange the provider's code and return the identity of its verified id_token."""
        metadata = self.metadata()
        with self._session() as session:
            try:
                token = session.fetch_token(metadata["token_endpoint"], code=code, code_verifier=code_verifier,
                                            timeout=TIMEOUT_S)
            except requests.RequestException as exc:
                raise UpstreamError(f"the sign-in provider could not be reached ({type(exc).__name__}); try again") \
                    from exc
            except Exception as exc:  # Authlib's OAuthError: the provider refused the code
                raise AuthRequired("the sign-in provider refused this sign-in (the link may have been used "
                                   "already); start again from your MCP client") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise AuthRequired("the sign-in provider sent no id_token; check that [auth] asks for the openid scope")
        claims = self._verified_claims(id_token, issuer=str(metadata["issuer"]), nonce=nonce)
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise AuthRequired("the sign-in provider sent no e-mail address; allow the console to see your e-mail")
        name = claims.get("name")
        return Identity(email.strip().lower(), name if isinstance(name, str) else "", claims.get("email_verified"))

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched at most once an hour."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_TTL_S:
                return self._metadata[1]
        document = self._get_json(self.metadata_url)
        with self._lock:
            self._metadata = (time.monotonic(), document)
        return document

    def _verified_claims(self, id_token: str, *, issuer: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, self._key_set(), algorithms=list(ALGORITHMS))
            except JoseError:
                # The provider may have rotated its keys since they were fetched.
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=list(ALGORITHMS))
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S, iss={"essential": True, "value": issuer}, aud={"essential": True, "value": self.client_id},
                exp={"essential": True}, nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise AuthRequired(f"the sign-in provider's id_token did not verify ({type(exc).__name__}); start "
                               "again from your MCP client") from exc
        return dict(token.claims)

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            keys = None if refresh else self._keys
        if keys is None:
            keys = KeySet.import_key_set(cast(KeySetSerialization, self._get_json(str(self.metadata()["jwks_uri"]))))
            with self._lock:
                self._keys = keys
        return keys

    def _session(self) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, scope=self.scope, redirect_uri=self.redirect_uri,
                             code_challenge_method="S256")

    @staticmethod
    def _get_json(url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=TIMEOUT_S)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise UpstreamError(f"the sign-in provider's {url[:80]} could not be read ({type(exc).__name__}); "
                                "try again, or tell an admin") from exc
        if not isinstance(document, dict):
            raise UpstreamError(f"the sign-in provider's {url[:80]} is not a JSON object")
        return document
