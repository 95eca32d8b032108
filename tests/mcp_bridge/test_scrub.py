"""mcp_bridge/scrub.py: credential-looking values become `[secret:…]`; ordinary values stay exactly as they were."""

from __future__ import annotations

import hashlib
import logging
import time

import pytest

from mcp_bridge.scrub import ScrubFilter, fingerprint, install_log_scrubbing, scrub, scrub_head, scrub_text

# Format-valid but made-up credentials (random characters, generated once).
ANTHROPIC = "sk-ant-api03-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA_2O76UMFxFkM_R5Kjp1vRt-1fjORS_6ilI8ihN5KXSc7Tvo_hBKqFYAA"
OPENAI = "sk-z63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAIxNKu8"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3Qta2V5In0.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZW1haWwiOiJhQGIuYyJ9.c2lnbmF0dXJlLXBhcnQtMTIz"
HEX64 = "88c79fc35526f7eaed46725a2a7b860dcd6c8a1f8b46287cced9041dff02cee7"
SECRETS = {
    "anthropic": ANTHROPIC,
    "openai": OPENAI,
    "openai project": "sk-proj-qg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZ",
    "aws access key id": "AKIAOM75WBBR4QMW2WXF",
    "aws secret key": "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",
    "github classic": "ghp_3m03nbqnsGpWLuqIA1id6Vw5DQL05HA064Gi",
    "github oauth": "gho_3m03nbqnsGpWLuqIA1id6Vw5DQL05HA064Gi",
    "github app": "ghs_3m03nbqnsGpWLuqIA1id6Vw5DQL05HA064Gi",
    "github fine-grained": "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",
    "slack bot": "xoxb-261675136134-1252427316723-kTBGzvAmwufUxbvJDCTbyvHN",
    "slack user": "xoxp-261675136134-1252427316723-kTBGzvAmwufUxbvJDCTbyvHN",
    "google api key": "AIzaLioDnkHIfxIq2HZt_PlJhx2jIclHkCiHp6b",
    "google oauth client secret": "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",
    "stripe live": "sk_live_vJA76rNicHTp8hkqdlm7tOtH",
    "stripe restricted": "rk_live_WnsCGRlrwZbqcabUGJmGEp7C",
    "shopify admin token": "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",
    "shopify shared secret": "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",
    "login with amazon refresh token": "Atzr|IwEBIXP_tKsf2rcDkdfrUnW5gcF-Ha6ili8GjHEAD6_Wj9KfzjsQGMrb9h-ImB-LK777pzNk8c",
    "jwt": JWT,
    "hex 32": "818319478da6bd0c621de49f145fda99",
    "hex 64": HEX64,
    "base64 44": "nCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy/1k=",
    "base64url 48": "GD2VD_eR1UYzaLiA_zNyD7CHLn_xC-1hsYgBds1ghxY5Ookv",
    "visa": "4111111111111111",
    "visa 13 digits": "4222222222222",
    "visa spaced": "4242 4242 4242 4242",
    "mastercard dashed": "5555-5555-5555-4444",
    "mastercard 2-series": "2223003122003222",
    "amex spaced": "3782 822463 10005",
    "discover": "6011111111111117",
    "jcb": "3530111333300000",
    "diners": "30569309025904",
    "unionpay": "6200000000000005",
}


@pytest.mark.parametrize("secret", list(SECRETS.values()), ids=list(SECRETS))
def test_a_secret_alone_becomes_its_marker(secret: str) -> None:
    assert scrub_text(secret) == f"[secret:{hashlib.sha256(secret.encode()).hexdigest()[:8]}]"


@pytest.mark.parametrize("secret", list(SECRETS.values()), ids=list(SECRETS))
def test_a_secret_inside_text_is_replaced_and_the_text_kept(secret: str) -> None:
    for template in ("search for {} please", "{}", "key={}&x=1", '{{"text_contains": "{}"}}', "(「{}」)", "{}\nnext"):
        assert scrub_text(template.format(secret)) == template.format(fingerprint(secret))


@pytest.mark.parametrize(("text", "expected"), [
    ("Authorization: Bearer abc123def456ghi789", "Authorization: Bearer " + fingerprint("abc123def456ghi789")),
    (f"Authorization: Bearer {JWT}", f"Authorization: Bearer {fingerprint(JWT)}"),
    ("bearer " + OPENAI, "bearer " + fingerprint(OPENAI)),
    ("Basic dXNlcjpwYXNzd29yZA==", "Basic " + fingerprint("dXNlcjpwYXNzd29yZA==")),
    ("postgresql+psycopg://console:s3cr3t-Pa55@db:5432/console",
     f"postgresql+psycopg://console:{fingerprint('s3cr3t-Pa55')}@db:5432/console"),
    ("password=hunter22", "password=" + fingerprint("hunter22")),
    ("DB_PASSWORD: correcthorsebattery", "DB_PASSWORD: " + fingerprint("correcthorsebattery")),
    ('{"api_key": "abcd1234efgh"}', '{"api_key": "' + fingerprint("abcd1234efgh") + '"}'),
    ("x-api-key: abcd1234efgh", "x-api-key: " + fingerprint("abcd1234efgh")),
    ("https://hooks.slack.com/services/T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX",
     "https://" + fingerprint("hooks.slack.com/services/T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX")),
    (f"two keys: {OPENAI} and {OPENAI}", f"two keys: {fingerprint(OPENAI)} and {fingerprint(OPENAI)}"),
], ids=["bearer", "bearer jwt", "bearer lower case", "basic", "database url", "password=", "env style", "json api_key",
        "header", "slack webhook", "same key twice"])
def test_secrets_with_context(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_a_private_key_block_goes_whole() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n" \
          "7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh\n" \
          "-----END RSA PRIVATE KEY-----"
    assert scrub_text(f"key:\n{pem}\nend") == f"key:\n{fingerprint(pem)}\nend"


ORDINARY = [
    "yoga mat",
    "best yoga mat for beginners non slip extra thick",
    "把关键词 'yoga mat' 的出价降到 1.20",
    "B0ABC12345", "B08N5WRWNW and B07XJ8C8F5",
    "YM-BLUE-6MM-001", "SKU-YOGA-MAT-BLUE-001", "sk-yoga-mat-6mm-extra-thick-blue",
    "2026-11-20", "2026-11-20T08:00:00.123456+00:00", "from 2026-10-21 to 2026-11-19",
    "1234567890123", "1732060800000", "123456789012345678", "9400111899223100000000", "4111111111111112",
    "3.14159265358979323846", "$1,234,567.89", "1234567890123456789012345678901234567890",
    "seller@demo.local", "first.last+ads-team@example.co.uk",
    "550e8400-e29b-41d4-a716-446655440000",
    "US261120-0000001", "ship US261120-0000001 via UPS 1Z999AA10123456784",
    "ads__list_keywords", "analytics__get_inventory_alerts", "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
    "https://console.example.com/oauth2callback",
    "https://images.example.com/Products/YogaMat2024Blue-Large_Front.jpg",
    "ThisIsAVeryLongCamelCaseIdentifierName2024Version",
    "Yoga-Mat-Extra-Thick-6mm-NonSlip-Exercise-Mat-Blue-2024",
    "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
    "Bearer authentication is required", "Basic information about the product", "the secret: none",
    "VALIDATION_FAILED: bid 50.0 is above the site's limit of 10.00 for keyword #12 'yoga mat'",
    "pending approval #7 (update_bid keyword #3 'yoga mat': bid 1.50 → 1.20)",
    "chat-0123456789abcdef",
    "[secret:3f9a1c2e] stays a marker",
    "x" * 5000,
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_values_are_left_alone(text: str) -> None:
    assert scrub_text(text) == text


@pytest.mark.parametrize("text", [*SECRETS.values(), "Bearer abc123def456ghi789", "password=hunter22",
                                  f"row {HEX64} and {OPENAI}"])
def test_scrubbing_twice_changes_nothing_more(text: str) -> None:
    once = scrub_text(text)
    assert once != text and scrub_text(once) == once


def test_scrub_walks_dicts_and_lists_and_keeps_the_consoles_own_digests() -> None:
    value = {
        "site": "us", "text_contains": ANTHROPIC, "bid": 1.2, "limit": None, "ok": True,
        "items": [OPENAI, {"reason": f"paid with 4111 1111 1111 1111, key {OPENAI}"}, 3],
        "row_hash": HEX64, "prev_hash": HEX64, "sha256": HEX64, "pinned_sha256": HEX64, "nonce": HEX64[:32],
        "arguments_hash": HEX64, "batch_id": "chat-" + HEX64[:16], "source_ref": HEX64[:32], "head_sha256": HEX64,
        "tuple": (HEX64,),
    }
    assert scrub(value) == {
        **value, "text_contains": fingerprint(ANTHROPIC),
        "items": [fingerprint(OPENAI), {"reason": f"paid with {fingerprint('4111 1111 1111 1111')}, key "
                                                  f"{fingerprint(OPENAI)}"}, 3],
        "tuple": [fingerprint(HEX64)],
    }


def test_scrub_head_never_keeps_part_of_a_secret_that_crosses_the_cut() -> None:
    text = "a " * 995 + OPENAI + " tail"  # the key starts at 1,990 and crosses a cut at 2,000
    head, cut = scrub_head(text, 2000)
    assert cut and len(head) == 2000 and OPENAI[:10] not in head and head.endswith(fingerprint(OPENAI)[:10])
    assert scrub_head("short " + OPENAI, 2000) == ("short " + fingerprint(OPENAI), False)
    pem_heavy = ("-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 600 + "\n-----END PRIVATE KEY-----\n") * 2 + "end"
    assert scrub_head(pem_heavy, 2000)[1] is False  # two long keys scrubbed down: nothing left to cut


def test_a_big_value_costs_little() -> None:
    """No quadratic corner: a 200 KB value of one run, of words, of digits is scrubbed well under a second."""
    for text in ("x" * 200_000, "yoga mat 4111 " * 15_000, "1" * 200_000, "a-" * 100_000):
        started = time.perf_counter()
        scrub_text(text)
        assert time.perf_counter() - started < 1.0


def test_the_log_filter_scrubs_message_arguments_and_traceback() -> None:
    try:
        raise ValueError(f"bad key {OPENAI}")
    except ValueError as exc:
        record = logging.LogRecord("mcp_bridge.agent.loop", logging.WARNING, __file__, 1, "call with %s failed: %s (%d)",
                                   (ANTHROPIC, exc, 3), (type(exc), exc, exc.__traceback__))
    assert ScrubFilter().filter(record) is True
    assert record.getMessage() == f"call with {fingerprint(ANTHROPIC)} failed: bad key {fingerprint(OPENAI)} (3)"
    assert OPENAI not in record.exc_text and fingerprint(OPENAI) in record.exc_text


@pytest.fixture
def record_factory():
    saved = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(saved)


def test_installed_scrubbing_reaches_every_logger_and_handler(record_factory, caplog) -> None:
    install_log_scrubbing()
    install_log_scrubbing()  # idempotent: one layer of scrubbing, not two
    caplog.set_level(logging.DEBUG)
    logging.getLogger("mcp_bridge.agent.loop").warning("Messages API call failed for key %s", ANTHROPIC)
    logging.getLogger("console.ui.deep.child").info("search term %r", OPENAI)
    logging.getLogger("httpx").debug("Authorization: Bearer abc123def456ghi789")
    assert ANTHROPIC not in caplog.text and OPENAI not in caplog.text and "abc123def456ghi789" not in caplog.text
    assert caplog.text.count("[secret:") == 3
