"""What a write is about: its target (server, site, the ids it names) and the fields it changes.

Two proposals with the same target and an overlapping field are the same intent: while one waits, the same change
is not filed again and a different one replaces it. The rules are a table per tool; a tool the table does not know
(an outside server's) is read from its arguments: ids name the target, everything else is a field it sets.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# Free text that explains a change without being the change: a different wording is still the same proposal.
EXPLANATIONS = frozenset({"reason", "note", "source_name"})
ID_NAMES = frozenset({"sku", "asin", "code"})
MAX_KEY = 255  # operations.intent
MAX_TARGET = 160


@dataclass(frozen=True)
class Rule:
    """How one tool names its target: `kind` and identity arguments, and the fields it changes.

    `fields` maps an argument to the field it changes (an argument left None changes nothing); `always` are fields
    changed whatever the arguments (pause_keyword: state). A creation (`creates`) is named by its parent and
    natural key, the identity arguments, and changes the one field `create`; `digest` arguments are hashed into
    the identity (an import's rows).
    """

    kind: str
    ids: tuple[str, ...]
    fields: tuple[tuple[str, str], ...] = ()
    always: tuple[str, ...] = ()
    creates: bool = False
    digest: tuple[str, ...] = ()


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in names)


RULES: dict[str, Rule] = {
    # ads
    "update_bid": Rule("keyword", ("keyword_id",), _same("bid")),
    "pause_keyword": Rule("keyword", ("keyword_id",), always=("state",)),
    "enable_keyword": Rule("keyword", ("keyword_id",), always=("state",)),
    "update_campaign": Rule("campaign", ("campaign_id",), _same("state", "daily_budget", "name")),
    "pause_product_ads": Rule("product_ads", ("sku",), always=("state",)),
    "create_campaign": Rule("campaign", ("platform", "profile_id", "name"), creates=True),
    "create_ad_group": Rule("ad_group", ("campaign_id", "name"), creates=True),
    "create_keyword": Rule("keyword", ("ad_group_id", "text", "match_type"), creates=True),
    "create_negative": Rule("negative", ("campaign_id", "ad_group_id", "text", "match_type"), creates=True),
    "create_product_target": Rule("product_target", ("ad_group_id", "asin"), creates=True),
    # commerce
    "update_price": Rule("variant", ("variant_id",), _same("price")),
    "update_inventory": Rule("inventory", ("variant_id",), (("on_hand", "on_hand"), ("add_inbound", "inbound"))),
    "update_product_status": Rule("product", ("product_id",), _same("status")),
    "update_order_status": Rule("order", ("order_id",), always=("status",)),
    "mark_order_shipped": Rule("order", ("order_id",), always=("status",)),
    "confirm_return": Rule("return", ("return_id",), always=("status",)),
    "disable_discount_code": Rule("discount_code", ("discount_code_id",), always=("status",)),
    "update_coupon": Rule("coupon", ("coupon_id",), _same("status", "budget")),
    "create_coupon": Rule("coupon", ("variant_id",), creates=True),  # one live coupon per SKU
    "create_discount_code": Rule("discount_code", ("code",), creates=True),
    "commit_product_import": Rule("import", (), creates=True, digest=("rows", "csv_text")),
}


@dataclass(frozen=True)
class Intent:
    """`target` is `server:site:what`; `key` adds the fields it changes (stored as `operations.intent`)."""

    target: str
    fields: frozenset[str]

    @property
    def key(self) -> str:
        key = f"{self.target}|{','.join(sorted(self.fields))}"
        return key if len(key) <= MAX_KEY else f"{self.target}|#{_digest(sorted(self.fields))}"

    @property
    def prefix(self) -> str:
        """What the key of every intent on this target starts with (for a query)."""
        return f"{self.target}|"

    def overlaps(self, key: str | None) -> bool:
        """True when a stored key names this target and shares a field with this intent (`*`: any field)."""
        if not key or not key.startswith(self.prefix):
            return False
        fields = key[len(self.prefix):]
        if fields.startswith("#") or self.key[len(self.prefix):].startswith("#"):  # too many fields to list
            return key == self.key
        theirs = set(fields.split(","))
        return bool(self.fields & theirs) or "*" in theirs or "*" in self.fields


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _text(value: Any) -> str:
    """An identity value as the servers compare it: case and runs of spaces do not matter."""
    return " ".join(str(value).split()).lower().replace(",", "%2C").replace("|", "%7C")


def _generic(tool: str, args: dict[str, Any]) -> Rule:
    ids = tuple(sorted(k for k in args if k != "site" and (k.endswith("_id") or k in ID_NAMES)))
    fields = _same(*sorted(k for k in args if k != "site" and k not in ids and k not in EXPLANATIONS))
    return Rule(kind=tool, ids=ids, fields=fields, digest=() if ids else tuple(sorted(args)))


def rule_for(tool: str, args: dict[str, Any]) -> Rule:
    return RULES.get(tool) or _generic(tool, args)


def intent_of(server: str, tool: str, arguments: dict[str, Any]) -> Intent:
    """The target and fields of a write, from its tool and business arguments."""
    rule = rule_for(tool, arguments)
    parts = [f"{name}={_text(arguments[name])}" for name in rule.ids if arguments.get(name) is not None]
    if rule.digest:
        parts.append(f"digest={_digest({name: arguments.get(name) for name in rule.digest})}")
    what = f"{'new ' if rule.creates else ''}{rule.kind}[{','.join(parts)}]"
    if len(what) > MAX_TARGET:  # long keyword texts: the target is kept short enough to be stored and queried
        what = f"{'new ' if rule.creates else ''}{rule.kind}[#{_digest(what)}]"
    if rule.creates:
        fields = frozenset({"create"})
    else:
        fields = frozenset({field for arg, field in rule.fields if arguments.get(arg) is not None} | set(rule.always))
    return Intent(target=f"{server}:{arguments.get('site')}:{what}", fields=fields or frozenset({"*"}))


def change_of(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments that make the change (explanations and unset ones left out): equal means the same proposal."""
    return {k: v for k, v in arguments.items() if v is not None and k not in EXPLANATIONS}


def same_change(tool: str, arguments: dict[str, Any], other_tool: str, other_arguments: dict[str, Any]) -> bool:
    return tool == other_tool and change_of(arguments) == change_of(other_arguments)
