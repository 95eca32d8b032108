"""Which Babel locale and currency a number is written in, from the site, the reader's UI language, or both."""

from __future__ import annotations

import functools

from babel import Locale

# The demo sites; a site not listed reads as en_US in US dollars until it is added here.
SITE_LOCALES = {"us": "en_US", "de": "de_DE", "jp": "ja_JP"}
SITE_CURRENCIES = {"us": "USD", "de": "EUR", "jp": "JPY"}
# The console's UI languages and the locale each one reads numbers in.
LANG_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}
DEFAULT_LOCALE = "en_US"
DEFAULT_CURRENCY = "USD"


def ui_language(lang: str | None) -> str | None:
    """`en` or `zh` for any spelling the console meets (`zh_Hans_CN`, `zh-Hans`, `en_US`); None stays None."""
    if not lang:
        return None
    code = lang.replace("-", "_").split("_")[0].lower()
    return code if code in LANG_LOCALES else "en"


@functools.lru_cache(maxsize=64)
def _parse(identifier: str) -> Locale:
    return Locale.parse(identifier)


def reading_locale(*, site: str | None = None, lang: str | None = None, locale: str | Locale | None = None) -> Locale:
    """The locale a number is written in: an explicit locale, else the UI language's, else the site's, else en_US."""
    if isinstance(locale, Locale):
        return locale
    if locale:
        return _parse(locale.replace("-", "_"))
    code = ui_language(lang)
    if code:
        return _parse(LANG_LOCALES[code])
    return _parse(SITE_LOCALES.get((site or "").lower(), DEFAULT_LOCALE))


def site_currency(site: str | None, currency: str | None = None) -> str:
    """The currency named, else the site's own, else US dollars."""
    if currency:
        return currency.upper()
    return SITE_CURRENCIES.get((site or "").lower(), DEFAULT_CURRENCY)


def site_locale(site: str | None) -> str:
    """The site's own locale identifier (us → en_US, de → de_DE, jp → ja_JP)."""
    return SITE_LOCALES.get((site or "").lower(), DEFAULT_LOCALE)
