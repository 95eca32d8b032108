"""Change history of one entity (a campaign and what it holds, a SKU): the operations filed on it, newest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from console.approvals.operations import change_text, get, target_text

HISTORY_COLUMNS = ["when", "change", "target", "status", "by", "id"]


def _ids(values: Iterable[Any]) -> set[int]:
    return {int(v) for v in values if v is not None and not pd.isna(v)}


def names_entity(arguments: dict[str, Any], *, campaign_ids: Iterable[Any] = (), ad_group_ids: Iterable[Any] = (),
                 keyword_ids: Iterable[Any] = (), skus: Iterable[str] = (), variant_ids: Iterable[Any] = (),
                 product_ids: Iterable[Any] = ()) -> bool:
    """True when a write's arguments name one of the entities (by id, or a SKU by its code)."""
    wanted = {"campaign_id": _ids(campaign_ids), "ad_group_id": _ids(ad_group_ids), "keyword_id": _ids(keyword_ids),
              "variant_id": _ids(variant_ids), "product_id": _ids(product_ids)}
    for name, ids in wanted.items():
        value = arguments.get(name)
        if ids and isinstance(value, int | str) and str(value).isdigit() and int(value) in ids:
            return True
    codes = {str(s) for s in skus}
    return bool(codes) and str(arguments.get("sku") or "") in codes


def entity_history(operations: Iterable[Any], **entities: Iterable[Any]) -> pd.DataFrame:
    """The operations whose arguments name the entities (see `names_entity`), newest first, one row each."""
    rows = [
        {"when": get(op, "created_at"), "change": change_text(op), "target": target_text(op),
         "status": get(op, "status"), "by": get(op, "proposer"), "id": get(op, "id")}
        for op in operations
        if names_entity(get(op, "arguments") or {}, **entities)
    ]
    table = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return table.sort_values("id", ascending=False, ignore_index=True) if not table.empty else table
