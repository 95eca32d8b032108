"""The sites a chat message names ("on JP", "the US site", "amazon.de", "Germany", "德国站") and the turn's site."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mcp_bridge.types import Caller

# What people call a marketplace besides its code. Country adjectives ("German", "Spanish") are left out on
# purpose: "add the Spanish word gratis as a negative" names a language, not a site.
SITE_NAMES: dict[str, tuple[str, ...]] = {
    "us": ("united states", "usa", "u.s.", "amazon.com", "美国"),
    "ca": ("canada", "amazon.ca", "加拿大"),
    "mx": ("mexico", "amazon.com.mx", "墨西哥"),
    "uk": ("united kingdom", "great britain", "britain", "amazon.co.uk", "英国"),
    "de": ("germany", "deutschland", "amazon.de", "德国"),
    "fr": ("france", "amazon.fr", "法国"),
    "it": ("italy", "amazon.it", "意大利"),
    "es": ("spain", "amazon.es", "西班牙"),
    "jp": ("japan", "amazon.co.jp", "日本"),
    "au": ("australia", "amazon.com.au", "澳大利亚"),
}
# Codes that are also everyday words in capitals ("DO IT", "IN STOCK", California): only in a site's context.
BARE_CODE_EXCLUDED = frozenset({"it", "in", "ca", "am", "be", "no", "or", "to", "as", "at", "is", "on", "by"})
# Quoted text is the user's data (a keyword, a negative, a campaign name), not a site: "add 'japan' as a negative".
QUOTED = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|\"[^\"\n]*\"|“[^”\n]*”|‘[^’\n]*’|「[^」\n]*」|『[^』\n]*』")
CJK = re.compile(r"[\u4e00-\u9fff]")

REFUSED_ONE = ("{named} is outside your scope; your sites: {yours}. Ask about one of those, or ask an admin for access to {named}.",
               "{named} 不在你的站点范围内；你的站点：{yours}。请询问你的站点，或请管理员开通 {named} 的权限。")
REFUSED_MANY = ("{named} are outside your scope; your sites: {yours}. Ask about one of those, or ask an admin for access.",
                "{named} 不在你的站点范围内；你的站点：{yours}。请询问你的站点，或请管理员开通权限。")


@dataclass(frozen=True)
class SiteChoice:
    """The site a turn works on, the sites its message named, and the refusal when one is outside the scope."""

    site: str
    named: tuple[str, ...] = ()
    refusal: str | None = None


def _code_patterns(code: str) -> list[re.Pattern[str]]:
    """How a message names a site by its code."""
    c = re.escape(code)
    patterns = [
        # "on jp", "site: us", "--site de", "marketplace DE", "in the US"
        re.compile(rf"(?:\bon|\bsite|\bmarketplace|\bstore|--site|\bin\s+the)(?:\s*[:=]\s*|\s+)(?:the\s+)?{c}\b", re.I),
        # "the us site", "JP store", "US站", "jp 站点"
        re.compile(rf"\b{c}(?:\s+(?:site|store|marketplace|shop|account)\b|\s*站)", re.I),
        re.compile(rf"站点\s*[:：]?\s*{c}\b", re.I),
    ]
    if code not in BARE_CODE_EXCLUDED:
        patterns.append(re.compile(rf"\b{c.upper()}\b(?!\$)"))  # "US", "DE", "JP" written as codes, not "US$"
    return patterns


def _name_pattern(name: str) -> re.Pattern[str]:
    """How a message names a site by a country or marketplace name."""
    if CJK.search(name):
        return re.compile(re.escape(name))
    # "amazon.com" must not match inside "amazon.com.mx"; "usa" not inside "usage"
    return re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w]|\.\w)", re.I)


def sites_named(text: str, *, also: Iterable[str] = ()) -> list[str]:
    """The site codes a message names, in the order they first appear (quoted text is not looked at)."""
    plain = QUOTED.sub(" ", text)
    codes = dict.fromkeys([*SITE_NAMES, *(c.lower() for c in also)])
    found: dict[str, int] = {}
    for code in codes:
        patterns = _code_patterns(code) + [_name_pattern(n) for n in SITE_NAMES.get(code, ())]
        positions = [m.start() for p in patterns if (m := p.search(plain))]
        if positions:
            found[code] = min(positions)
    return sorted(found, key=found.__getitem__)


def choose_site(text: str, caller: Caller, active: str) -> SiteChoice:
    """The turn's site: a site of the caller's the message names wins over the active one; others are refused."""
    named = sites_named(text, also=caller.sites)
    outside = [s for s in named if s not in caller.sites]
    if outside:
        zh = bool(CJK.search(text))
        template = (REFUSED_ONE if len(outside) == 1 else REFUSED_MANY)[1 if zh else 0]
        yours = ("、" if zh else ", ").join(s.upper() for s in sorted(caller.sites)) or ("无" if zh else "none")
        refusal = template.format(named=", ".join(s.upper() for s in outside), yours=yours)
        return SiteChoice(active, tuple(named), refusal)
    if not named or active in named:
        return SiteChoice(active, tuple(named))
    return SiteChoice(named[0], tuple(named))
