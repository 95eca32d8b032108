"""Messages in the reader's language: English in the source, Simplified Chinese from a gettext catalogue.

Each script run (a Streamlit session's run, a gateway request, a command) calls `use(lang)` once; `_()` and
`ngettext()` then translate into that language wherever they are called, report builders included. The language
lives in a context variable, so sessions running side by side in their own threads never see each other's.
Texts with values use named fields, translated whole: `_("{count} waiting").format(count=n)`.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

SOURCE = "en"
LANGUAGES = {"en": "English", "zh": "中文"}
BABEL_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}  # for Babel's number, date and currency formats
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# Simplified Chinese: mainland China, Singapore, and any tag that names the Hans script. Traditional Chinese tags
# (zh-TW, zh-HK, zh-Hant) do not match; the next language the browser lists is tried.
SIMPLIFIED = re.compile(r"zh(-(hans|cn|sg)(-.*)?)?", re.IGNORECASE)

_language: ContextVar[str] = ContextVar("console_language", default=SOURCE)


def normalise(lang: str | None) -> str:
    """A supported language code for `lang` (`zh`, `zh-CN`, `zh_Hans_CN` → `zh`); English for anything else."""
    if not lang:
        return SOURCE
    tag = lang.strip().replace("_", "-")
    if tag.lower() in LANGUAGES:
        return tag.lower()
    return "zh" if SIMPLIFIED.fullmatch(tag) else SOURCE


def use(lang: str | None) -> str:
    """Translate into `lang` for the rest of this run (an unknown language falls back to English); returns it."""
    chosen = normalise(lang)
    _language.set(chosen)
    return chosen


def current() -> str:
    """The language of this run: `en` or `zh`."""
    return _language.get()


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Translate into `lang` inside the block only (tests, a mail for another person), then back."""
    token = _language.set(normalise(lang))
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def language_from_accept(header: str | None) -> str:
    """The language to use for a browser's `Accept-Language` (`zh-CN,zh;q=0.9,en;q=0.8` → `zh`), else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    for _quality, _position, tag in sorted(ranked):
        primary = tag.split("-")[0].lower()
        if primary == "en":
            return "en"
        if SIMPLIFIED.fullmatch(tag):
            return "zh"
    return SOURCE


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang`, read once per process from its .po file (no compiled .mo to go stale)."""
    if lang == SOURCE or lang not in LANGUAGES:
        return NullTranslations()
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with path.open("rb") as po:
            catalog = read_po(po, locale=BABEL_LOCALES[lang], domain=DOMAIN)
    except OSError:
        log.warning("no message catalogue at %s: showing English", path)
        return NullTranslations()
    # Babel's own .mo writer turns the catalogue into what gettext reads (plural rule included); fuzzy entries are
    # left out, so an unchecked guess shows as English rather than as a wrong translation.
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _(message: str) -> str:
    """`message` in the language of this run."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the language of this run (Chinese has one form)."""
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it now (module-level labels, translated when shown)."""
    return message


# A word that names two things ("Admin": the page and the role; "Sales": the page and an amount) is translated per
# context: `pgettext("page", "Admin")`; `NC_("page", "Admin")` marks one ahead of being shown, as N_ does.
PAGE = "page"


def pgettext(context: str, message: str) -> str:
    """`message` as meant in `context`, in the language of this run."""
    return translations(_language.get()).pgettext(context, message)


def NC_(context: str, message: str) -> str:
    """Mark `message` in `context` for the catalogue; translate it with `pgettext(context, message)` when shown."""
    return message
