"""`python -m console i18n extract|update|check`: the texts people read, the Chinese catalogue, and its gaps."""

from __future__ import annotations

import argparse
import io
import string
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from console.i18n import BABEL_LOCALES, DOMAIN, LANGUAGES, LOCALES_DIR, SOURCE

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
SEARCHED = frozenset({"pages", "console"})  # besides app.py at the top: the only folders with texts people read
# Single files elsewhere whose N_() texts the console shows (the bridge marks them; it never translates).
ALSO_SEARCHED = frozenset({"mcp_bridge/catalog/site_limits.py"})
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2), "NC_": ((1, "c"), 2)}
COMMENT_TAGS = ("Translators:",)
PROJECT = "operator-console"
HEADER = ("# The operator console's texts in one language.\n"
          "# `python -m console i18n update` adds new ones; `check` lists those left.\n"
          "# Keep each {field} and `code` as is; ACOS, ROAS, SKU, ASIN stay as is.\n#")


def catalogue_path(lang: str) -> Path:
    """Where the catalogue of `lang` is kept."""
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract(root: Path = ROOT) -> Catalog:
    """Every `_()`, `ngettext()` and `N_()` text of app.py, pages/ and console/, as a template catalogue."""
    with MAPPING.open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping, str(MAPPING))

    def searched(path: str) -> bool:
        relative = Path(path).relative_to(root)
        if relative.as_posix() in ALSO_SEARCHED or any(f.startswith(f"{relative.as_posix()}/") for f in ALSO_SEARCHED):
            return True
        parts = relative.parts
        return parts[0] in SEARCHED and not any(p.startswith((".", "_")) for p in parts)

    template = Catalog(project=PROJECT, charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            root, method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True,
            directory_filter=searched):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def load(lang: str) -> Catalog:
    """The catalogue of `lang` as stored (an empty one when there is none yet)."""
    path = catalogue_path(lang)
    if not path.exists():
        return Catalog(locale=BABEL_LOCALES[lang], domain=DOMAIN, project=PROJECT, charset="utf-8", fuzzy=False,
                       header_comment=HEADER, language_team=LANGUAGES[lang])
    with path.open("rb") as po:
        return read_po(po, locale=BABEL_LOCALES[lang], domain=DOMAIN)


def save(catalog: Catalog, path: Path) -> None:
    """Write a catalogue or template as a .po/.pot file (whole, or not at all)."""
    text = io.BytesIO()
    # Files without line numbers: a change elsewhere in a module does not rewrite every entry below it.
    write_po(text, catalog, ignore_obsolete=True, include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.getvalue())


@dataclass(frozen=True)
class Gap:
    """A source text the catalogue does not translate well enough to show."""

    msgid: str
    problem: str
    where: str


def fields(text: str) -> set[tuple[str, str, str]]:
    """The named `{fields}` of a format string, with their conversion and format spec."""
    return {(name, conversion or "", spec or "") for _literal, name, spec, conversion
            in string.Formatter().parse(text) if name is not None}


def _problem(wanted: Message, found: Message | None) -> str | None:
    if found is None or isinstance(wanted.id, tuple) != isinstance(found.id, tuple):
        return "missing"
    if found.fuzzy:
        return "fuzzy (a guess to check)"
    sources = wanted.id if isinstance(wanted.id, tuple) else (wanted.id,)
    texts = found.string if isinstance(found.string, tuple) else (found.string,)
    if not all(texts):
        return "untranslated"
    try:
        expected = set().union(*(fields(s) for s in sources))
        for text in texts:
            if fields(text) != expected:
                return f"placeholders differ: {sorted(n for n, *_ in fields(text))} for {sorted(n for n, *_ in expected)}"
    except ValueError as exc:
        return f"malformed placeholder: {exc}"
    return None


def gaps(template: Catalog, catalog: Catalog) -> list[Gap]:
    """The template's texts that `catalog` lacks, leaves empty, marks fuzzy, or translates with other placeholders."""
    found = []
    for message in template:
        if not message.id:
            continue  # the header
        problem = _problem(message, catalog.get(message.id, message.context))
        if problem:
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            where = ", ".join(dict.fromkeys(f for f, _line in message.locations))
            found.append(Gap(msgid, problem, where))
    return found


def update(lang: str, template: Catalog) -> Catalog:
    """`lang`'s catalogue merged with the template: new texts added, changed ones as fuzzy guesses, gone ones dropped."""
    catalog = load(lang)
    catalog.update(template, update_creation_date=False)
    return catalog


def run_extract(args: argparse.Namespace) -> int:
    template = extract()
    save(template, TEMPLATE)
    print(f"{len(template)} texts in {TEMPLATE.relative_to(ROOT)}")
    return 0


def run_update(args: argparse.Namespace) -> int:
    template = extract()
    save(template, TEMPLATE)
    for lang in LANGUAGES:
        if lang == SOURCE:
            continue
        catalog = update(lang, template)
        save(catalog, catalogue_path(lang))
        print(f"{catalogue_path(lang).relative_to(ROOT)}: {len(gaps(template, catalog))} of {len(template)} texts "
              "to translate")
    return 0


def run_check(args: argparse.Namespace) -> int:
    template = extract()
    missing = 0
    for lang in LANGUAGES:
        if lang == SOURCE:
            continue
        for gap in gaps(template, load(lang)):
            missing += 1
            print(f"{lang}: {gap.problem}: {gap.msgid!r} ({gap.where})")
    if missing:
        print(f"{missing} text(s) without a translation; run `python -m console i18n update`, then translate them")
        return 2
    print(f"every one of {len(template)} texts is translated")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("i18n", help="message catalogues: extract the texts, update the Chinese one, check it")
    commands = parser.add_subparsers(dest="i18n_command", required=True)
    commands.add_parser("extract", help=f"write the texts of app.py, pages/ and console/ to {TEMPLATE.name}"
                        ).set_defaults(run=run_extract)
    commands.add_parser("update", help="extract, then merge new and changed texts into each catalogue"
                        ).set_defaults(run=run_update)
    commands.add_parser("check", help="list the texts a catalogue does not translate (exit 2 when any)"
                        ).set_defaults(run=run_check)
