"""Credential-looking values out of text: API keys, bearer tokens, JWTs, random hex/base64, card numbers.

People paste secrets where values go (an API key as a search term, a card number in a proposal's reason). What
reaches the audit log, the logs, the conversation store or the model is scrubbed first: each secret becomes
`[secret:3f9a1c2e]`, the first 8 hex digits of its SHA-256, so two mentions of one key can still be matched up
without the key being readable. Ordinary values (keywords, ASINs, SKUs, dates, numbers, e-mails, dashed UUIDs) stay.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from typing import Any

# The shortest string that can hold a secret this module finds (a 13-digit card number); shorter ones are skipped.
MIN_SECRET_CHARS = 13
MARKER = "[secret:{}]"
# A secret longer than this (but a PEM block) is not expected: `scrub_head` looks this far past its cut.
_MAX_SECRET_CHARS = 512
# Keys whose values the console makes itself (digests, nonces, ids): long hex by design and never a credential.
SAFE_KEYS = frozenset({
    "sha256", "pinned_sha256", "changed_sha256", "row_hash", "prev_hash", "last_hash", "head", "nonce",
    "arguments_hash", "batch_id", "conversation_id", "source_ref", "id", "tool_use_id", "kid", "key_id",
})

# Provider keys recognisable by their prefix; each needs enough random characters after it to be a real key.
_PREFIXED = "|".join((
    r"sk-ant-[A-Za-z0-9_-]{20,}",  # Anthropic (api03, admin01 …)
    r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",  # OpenAI (also needs mixed case and digits, below)
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"xapp-[A-Za-z0-9-]{10,}",
    r"AIza[A-Za-z0-9_-]{35}",  # Google API keys
    r"GOCSPX-[A-Za-z0-9_-]{20,}",  # Google OAuth client secrets
    r"ya29\.[A-Za-z0-9_-]{20,}",  # Google OAuth access tokens
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
    r"whsec_[A-Za-z0-9]{20,}",
    r"shp(?:at|ss|ca|pa)_[A-Fa-f0-9]{32}",  # Shopify
    r"Atz[ar]\|[A-Za-z0-9_.+/=|-]{20,}",  # Login with Amazon access and refresh tokens
    r"amzn1\.oa2-cs\.v1\.[A-Fa-f0-9]{32,}",  # Login with Amazon client secrets
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"npm_[A-Za-z0-9]{36}",
    r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",  # SendGrid
    r"hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/]{20,}",  # Slack webhooks
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[A-Za-z0-9+/=\s]*(?:-----END [A-Z ]*PRIVATE KEY-----)?",
))
_BEFORE = r"A-Za-z0-9_+/-"  # what may not come right before a random token (it would be part of it)
_AFTER = r"A-Za-z0-9_+/=-"  # … or right after it
_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_])(?:"  # a secret starts where a word starts: inside words one look back is all it costs
    r"(?P<jwt>eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"
    rf"|(?P<prefixed>{_PREFIXED})"
    # "Bearer <token>" and "Basic <base64 of user:password>": the scheme stays, the credential goes.
    r"|(?P<scheme>(?:[Bb]earer|BEARER|[Bb]asic|BASIC)\s+)(?P<credential>[A-Za-z0-9._~+/-]{8,}=*)"
    # user:password@ in a URL (a database URL in a log line).
    r"|(?<=://)(?P<user>[^\s/:@\[\]]+:)(?P<password>[^\s/@\[\]]{3,})(?=@)"
    # password=…, db_password: …, x-api-key: … (key=value text, query strings, connection strings, headers).
    r"|(?<![\[-])(?P<field>(?:[A-Za-z0-9]++[_-])*(?i:password|passwd|pwd|secret|api[_-]?key"
    r"|access[_-]?token|auth[_-]?token|refresh[_-]?token)[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"'&,;\[\]]{4,})"
    # Card numbers: 13–19 digits, single spaces or dashes between them, not part of a longer number (checked below).
    r"|(?<!\d[ -])(?P<card>\d(?:[ -]?\d){12,18})(?![ -]?\d)"
    rf"|(?<![{_BEFORE}])(?P<hex>[0-9A-Fa-f]{{32,}})(?![{_AFTER}])"
    rf"|(?<![{_BEFORE}])(?P<b64>[A-Za-z0-9+/_-]{{40,}}={{0,2}})(?![{_AFTER}])"
    r")"
)
# Secrets that span a space, found by the pattern only when one of these words (or spaced digits) is in the text.
_CONTEXT_WORDS = ("bearer", "basic", "passw", "pwd", "secret", "apikey", "api_key", "api-key", "token", "://",
                  "private key")
_DIGIT = re.compile(r"\d")
_SPACED_DIGITS = re.compile(r"\d{4}[ -]\d{4}")  # how card numbers are written: 4-4-4-4, 4-6-5, 4-6-4
# Card brands by leading digits and length: a random Luhn-valid number (an order id, a timestamp) rarely fits one.
_CARD_BRANDS = (
    (re.compile(r"4"), (13, 16, 19)),  # Visa
    (re.compile(r"5[1-5]|2(?:22[1-9]|2[3-9]|[3-6]|7[01]|720)"), (16,)),  # Mastercard
    (re.compile(r"3[47]"), (15,)),  # American Express
    (re.compile(r"6(?:011|5|4[4-9])|35|62"), (16, 17, 18, 19)),  # Discover, JCB, UnionPay
    (re.compile(r"3(?:0[0-5]|[689])"), (14, 15, 16, 17, 18, 19)),  # Diners
    (re.compile(r"5[06-9]|6"), (13, 14, 15, 16, 17, 18, 19)),  # Maestro
)


def fingerprint(secret: str) -> str:
    """The marker for `secret`: its SHA-256's first 8 hex digits, enough to tell two secrets apart."""
    return MARKER.format(hashlib.sha256(secret.encode()).hexdigest()[:8])


def scrub_text(text: str) -> str:
    """`text` with every credential-looking substring replaced by its marker."""
    if len(text) < MIN_SECRET_CHARS:
        return text
    if _has_context_word(text.lower()) or _SPACED_DIGITS.search(text):
        return _PATTERN.sub(_replace, text)
    # Everything else the pattern finds lies within one space-separated part: look only at the long ones. (The
    # pattern tries a dozen alternatives at every word start; most parts are short words.)
    parts = text.split(" ")
    changed = False
    for i, part in enumerate(parts):
        if len(part) >= MIN_SECRET_CHARS and (scrubbed := _PATTERN.sub(_replace, part)) != part:
            parts[i], changed = scrubbed, True
    return " ".join(parts) if changed else text


def _has_context_word(lowered: str) -> bool:
    # A loop, not any(…): a third faster, and this runs for every string of every audit row.
    for word in _CONTEXT_WORDS:  # noqa: SIM110
        if word in lowered:
            return True
    return False


def scrub(value: Any, *, safe_keys: frozenset[str] = SAFE_KEYS) -> Any:
    """A copy of `value` with every string scrubbed, nested dicts and lists too; values of `safe_keys` are kept."""
    kind = type(value)
    if kind is str:
        return value if len(value) < MIN_SECRET_CHARS else scrub_text(value)
    if kind is dict:
        return {k: v if type(v) not in _SCRUBBED_TYPES or safe_key(k, safe_keys) else scrub(v, safe_keys=safe_keys)
                for k, v in value.items()}
    if kind is list or kind is tuple:
        return [scrub(v, safe_keys=safe_keys) for v in value]
    return value


def scrub_head(text: str, limit: int) -> tuple[str, bool]:
    """The scrubbed text, cut to `limit` characters when it is longer, and whether it was cut.

    Only a window of `text` is scrubbed, so a 200 KB value costs what a few KB do; the window reaches far enough
    past the cut that a secret crossing its end is never partly inside the first `limit` characters.
    """
    window = limit + _MAX_SECRET_CHARS
    while True:
        scrubbed = scrub_text(text[:window])
        if window >= len(text):
            return (scrubbed, False) if len(scrubbed) <= limit else (scrubbed[:limit], True)
        if len(scrubbed) >= limit + _MAX_SECRET_CHARS:
            return scrubbed[:limit], True
        window *= 2


REQUEST_CHARS = 500  # of a chat message kept as a proposal's evidence


def request_evidence(text: str) -> dict[str, str]:
    """A proposal's evidence from the chat message that led to it: scrubbed, at most REQUEST_CHARS characters."""
    head, cut = scrub_head(str(text).strip(), REQUEST_CHARS)
    return {"request": head[: REQUEST_CHARS - 1] + "…" if cut else head}


def safe_key(key: object, safe_keys: frozenset[str] = SAFE_KEYS) -> bool:
    """True for a key whose value is one of the console's own digests, nonces or ids."""
    return key in safe_keys or (type(key) is str and key.endswith(("_hash", "_sha256")))


_SCRUBBED_TYPES = frozenset({str, dict, list, tuple})


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup
    text = match.group(kind)  # type: ignore[arg-type]
    if kind == "credential":
        return match["scheme"] + fingerprint(text) if _credential(match["scheme"], text) else match[0]
    if kind == "password":
        return match["user"] + fingerprint(text)
    if kind == "value":  # "password: hunter2" is a secret, "the secret: none" is prose
        return match[0] if len(text) < 8 and text.isalpha() else match["field"] + fingerprint(text)
    if kind == "prefixed" and text.startswith("sk-") and not text.startswith("sk-ant-") and not _mixed(text[3:]):
        return text  # a slug such as sk-yoga-mat-6mm-extra-thick, not an OpenAI key
    if kind == "card" and not _card(text):
        return text
    if kind == "hex" and (text.isdigit() or _DIGIT.search(text) is None):
        return text
    if kind == "b64" and not (_mixed(text) and _random(text)):
        return text
    return fingerprint(text)


def _credential(scheme: str, token: str) -> bool:
    if scheme[0] in "Bb" and scheme[1] in "Ee":
        return any(c.isdigit() for c in token)  # "Bearer authentication" is prose, a token has digits
    try:  # Basic: base64 of user:password
        return b":" in base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False


def _mixed(text: str) -> bool:
    return text.lower() != text and text.upper() != text and _DIGIT.search(text) is not None


def _random(text: str) -> bool:
    """Random base64 switches between upper, lower and digit at about 5 of 8 letters or digits; words about 1 in 3.

    (About 2 in 100 random 40-character keys fall under the bar, 4 in 1,000 of 64 characters.)
    """
    classes = [c.isupper() * 1 + c.islower() * 2 + c.isdigit() * 3 for c in text[:512] if c.isalnum()]
    switches = sum(a != b for a, b in zip(classes, classes[1:], strict=False))
    return switches >= 0.45 * (len(classes) - 1)


def _card(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    number = "".join(map(str, digits))
    if not any(prefix.match(number) and len(digits) in lengths for prefix, lengths in _CARD_BRANDS):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class ScrubFilter(logging.Filter):
    """Scrubs a log record's message, arguments and traceback text in place; never drops a record.

    The arguments keep their shape (formatters such as uvicorn's unpack them); one whose text holds a secret
    becomes its scrubbed text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrub_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub_text(text)
        return True


def _scrub_arg(arg: Any) -> Any:
    if arg is None or isinstance(arg, int | float):
        return arg
    try:
        text = arg if isinstance(arg, str) else str(arg)
    except Exception:  # an object that cannot say what it is: logging reports that when it formats the record
        return arg
    scrubbed = scrub_text(text)
    return arg if scrubbed == text else scrubbed


_FILTER = ScrubFilter()


def install_log_scrubbing() -> None:
    """Scrub every log record as it is made, in whatever logger (idempotent: once per process is enough).

    A filter on a logger sees only that logger's own records, not its children's, and a filter on a handler misses
    the other handlers (pytest's caplog, Streamlit's); the record factory sees every record before any of them.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "scrubs_secrets", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory.scrubs_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
