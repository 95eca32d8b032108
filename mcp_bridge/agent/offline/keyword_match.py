"""Finding a keyword by its words: in any order, case and accents ignored; close matches when none fits."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

MATCH_TYPES = frozenset({"exact", "phrase", "broad"})
# Words people put around a keyword's text that are not part of it: "the exact keyword 'yoga mat'".
FILLERS = frozenset({"keyword", "keywords", "kw", "the", "my", "关键词", "关键字"})
LATIN_END = "\u0250"  # Latin letters end here; accents are dropped only from them (ガ keeps its mark)


def fold(text: str) -> str:
    """Text for comparing: case folded (ß → ss), accents of Latin letters dropped (ü → u); other scripts as they are."""
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(ch) and kept and kept[-1] < LATIN_END:
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return re.findall(r"\w+", fold(text))


@dataclass(frozen=True)
class KeywordQuery:
    """What a person typed for a keyword: its words, and a match type when they named one."""

    words: tuple[str, ...]
    match_type: str | None = None

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def search_word(self) -> str | None:
        """The longest word, for the server's substring filter (it narrows the read; matching happens here)."""
        return max(self.words, key=len) if self.words else None


def parse_query(reference: str) -> KeywordQuery:
    """`"the exact keyword 'yoga mat'"` → words (yoga, mat), match type exact."""
    found = [w for w in words(reference) if w not in FILLERS]
    match_type = next((w for w in found if w in MATCH_TYPES), None)
    rest = tuple(w for w in found if w not in MATCH_TYPES)
    if not rest and match_type:  # the keyword itself is "exact" or "broad"
        return KeywordQuery((match_type,))
    return KeywordQuery(rest, match_type)


def _live(query: KeywordQuery, keyword: dict[str, Any]) -> bool:
    return keyword.get("state") != "archived" and (query.match_type is None or keyword.get("match_type") == query.match_type)


def full_matches(query: KeywordQuery, keywords: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keywords whose text has every word of the query, in any order (archived ones left out)."""
    wanted = set(query.words)
    return [k for k in keywords if _live(query, k) and wanted <= set(words(k["text"]))]


def pick(query: KeywordQuery, keywords: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one keyword the query means, or None when it is not one: never a guess between several."""
    matches = full_matches(query, keywords)
    if len(matches) == 1:
        return matches[0]
    # "yoga mat" means the keyword "yoga mat" even when "thick yoga mat" also has its words.
    for same in (lambda k: words(k["text"]) == list(query.words), lambda k: sorted(words(k["text"])) == sorted(query.words)):
        chosen = [k for k in matches if same(k)]
        if len(chosen) == 1:
            return chosen[0]
    return None


def _closeness(query: KeywordQuery, keyword: dict[str, Any]) -> float:
    have = words(keyword["text"])
    score = 0.0
    for q in query.words:
        if q in have:
            score += 1.0
        elif any(len(q) >= 3 and (q in w or (len(w) >= 3 and w in q)) for w in have):  # "yoga" in "yogamatte"
            score += 0.6
    share = score / max(len(query.words), 1)
    return share + 0.4 * difflib.SequenceMatcher(None, query.text, " ".join(have)).ratio()


def close_matches(query: KeywordQuery, keywords: list[dict[str, Any]], *, limit: int = 8) -> tuple[list[dict[str, Any]], int]:
    """The keywords nearest the query (every-word matches first), at most `limit`, and how many were near at all."""
    seen: dict[int, dict[str, Any]] = {}
    for k in keywords:
        if _live(query, k):
            seen.setdefault(k["id"], k)
    scored = sorted(((_closeness(query, k), k) for k in seen.values()), key=lambda pair: (-pair[0], pair[1]["id"]))
    near = [k for score, k in scored if score >= 0.5]
    return near[:limit], len(near)


def lower_by_tenth(bid: float) -> float:
    """A bid 10% lower at the bid's own precision (yen bids are whole numbers; others have cents)."""
    whole = bid >= 10 and bid == int(bid)
    return float(round(bid * 0.9)) if whole else round(bid * 0.9, 2)


def amount(value: float) -> str:
    """A bid as a person types it back: `0.93`, `97` (no currency symbol: the site's currency is implied)."""
    return f"{value:.0f}" if value >= 10 and value == int(value) else f"{value:.2f}"
