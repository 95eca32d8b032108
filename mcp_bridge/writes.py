"""The write path, top to bottom: (authorised by the facade) → evidence → preview → the queue; then, for the gate,
the one real call after approval and the ledger's answer about a nonce.

A server that declares the write contract gets a preview call (`dry_run`) and, after approval, a token for that one
call; any other server is never called for a preview and gets only the approved arguments.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from mcp_bridge.answers import elapsed_ms, error_from_result, result_text, structured
from mcp_bridge.errors import ConsoleError
from mcp_bridge.gate import sign_approval
from mcp_bridge.types import Caller, Source, ToolOutcome, ToolSpec

# The evidence filed with a proposal, and the write arguments that name a row it knows, most specific first: a
# creation is judged by its parent (create_keyword by its ad group, create_negative by its ad group or campaign).
EVIDENCE_TOOL = "analytics__get_target_evidence"
EVIDENCE_TARGETS = ("keyword_id", "coupon_id", "order_id", "product_id", "variant_id", "sku", "ad_group_id", "campaign_id")


class Writes:
    """Files writes for the facade and is the gate's `WriteRunner` (it owns the pool, catalog, keyring and gate)."""

    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge
        self.config = bridge.config

    def propose(self, caller: Caller, spec: ToolSpec, args: dict[str, Any], started: float,
                source: Source) -> ToolOutcome:
        """Evidence, the preview (inside `Gate.propose`), then the queue: "pending approval #N" for the model."""
        source = self._with_evidence(caller, spec, args, source)
        op = self.bridge.gate.propose(caller, spec.server, spec.tool, args, source=source)  # audited as `proposed`
        return ToolOutcome(spec.name, "pending", f"pending approval #{op.id} ({op.summary})",
                           structured={"operation_id": op.id, "status": op.status, "preview": op.preview,
                                       "already_waiting": op.already_waiting},
                           operation_id=op.id, batch_id=op.batch_id, duration_ms=elapsed_ms(started))

    def _with_evidence(self, caller: Caller, spec: ToolSpec, args: dict[str, Any], source: Source) -> Source:
        """The source with the write's target's metrics filled in under what it brought (a rule, a chat request).

        One read of the proposer's (`analytics__get_target_evidence`, audited and scope-checked like any read) when
        the source brought no metrics and the write names a row that tool knows; a failed or refused read leaves
        `unavailable` and never blocks the proposal.
        """
        given = source.evidence or {}
        if "metrics" in given or spec.server not in self.config.bundled:  # an outside server's ids are not ours
            return source
        target = next(((name, args[name]) for name in EVIDENCE_TARGETS if args.get(name) is not None), None)
        if target is None:  # a creation without a parent the tool knows (a campaign, a discount code, an import)
            return source
        evidence_server = EVIDENCE_TOOL.split("__")[0]
        catalog = self.bridge.catalog
        if evidence_server not in catalog.pool.servers or EVIDENCE_TOOL not in catalog.server_specs(evidence_server):
            why = getattr(catalog, "errors", {}).get(evidence_server)  # only that server is listed, never all
            if why is None:  # no analytics server configured (or one without the tool): nothing to say
                return source
            return replace(source, evidence={"unavailable": f"the analytics server is not answering: {why}"[:300], **given})
        query = {"site": args.get("site"), target[0]: target[1], **_evidence_window(given)}
        outcome = self.bridge.call(caller, EVIDENCE_TOOL, query, source=source)
        if outcome.status == "ok" and isinstance(outcome.structured, dict):
            fetched = outcome.structured
        else:
            fetched = {"unavailable": outcome.text[:300] or f"{EVIDENCE_TOOL} failed"}
        return replace(source, evidence={**fetched, **given})

    # -- WriteRunner: how the gate reaches the servers ---------------------------------------------------------
    def prepare(self) -> None:
        self.bridge.start()

    def dry_run(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The server's own before → after; for a server without the write contract, one built from the arguments
        alone (never a call: such a server would take `dry_run` for an unknown argument and write)."""
        if not self._contract(server, tool):
            return unverified_preview(server, tool, arguments)
        result = self.bridge.pool.call(server, tool, {**arguments, "dry_run": True}, timeout=self.config.call_timeout_s, retry=True)
        if result.is_error:
            raise error_from_result(result, f"{server}__{tool}")
        return structured(result, f"{server}__{tool}")

    def execute(self, server: str, tool: str, arguments: dict[str, Any], *, operation_id: int, nonce: str,
                expires: dt.datetime, expected_before: dict[str, Any] | None) -> dict[str, Any]:
        """The one real call. A contract server gets a token for it alone (its nonce spent once by its ledger) and
        the `before` the approver saw; any other server gets the approved arguments and nothing of ours."""
        # Never retried: a write whose outcome is unknown is settled from the ledger, or by a person.
        if self._contract(server, tool):
            token = sign_approval(self.bridge.keyring, audience=server, operation_id=operation_id, tool=tool,
                                  arguments=arguments, nonce=nonce, expires=int(expires.replace(tzinfo=dt.UTC).timestamp()))
            sent = {**arguments, "approval_token": token, **({"expected_before": expected_before} if expected_before else {})}
        else:
            sent = dict(arguments)
        result = self.bridge.pool.call(server, tool, sent, timeout=self.config.call_timeout_s, retry=False)
        if result.is_error:
            raise error_from_result(result, f"{server}__{tool}")
        try:
            return structured(result, f"{server}__{tool}")
        except ConsoleError:  # an outside server may answer in text only: it ran, so that is its result
            return {"summary": result_text(result)[:2000], "verified": False}

    def _contract(self, server: str, tool: str) -> bool:
        # A bundled server always keeps the contract: one whose tools cannot be listed right now must fail the
        # call, never fall back to an unverified preview and a call without a token.
        return server in self.config.bundled or self.bridge.catalog.implements_contract(server, tool)

    def write_status(self, server: str, site: str, nonce: str) -> dict[str, Any] | None:
        if server not in self.config.bundled and not self._has_status(server):
            return None
        result = self.bridge.pool.call(server, "get_write_status", {"site": site, "nonce": nonce},
                                timeout=self.config.call_timeout_s, retry=True)
        if result.is_error:
            raise error_from_result(result, f"{server}__get_write_status")
        return structured(result, f"{server}__get_write_status")

    def _has_status(self, server: str) -> bool:
        return any(spec.tool == "get_write_status" for spec in self.bridge.catalog.server_specs(server).values())


def unverified_preview(server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """What an approver sees for a server without the write contract: every argument as "after", "before" unknown."""
    after = {k: v for k, v in arguments.items() if k != "site"}
    shown = "; ".join(f"{k} → {_short(v)}" for k, v in after.items()) or "no arguments"
    return {"tool": tool, "site": arguments.get("site"), "target": f"{tool} on {server} (outside server)",
            "summary": shown, "dry_run": True, "applied": False, "before": {}, "after": after,
            "changes": [{"field": k, "before": None, "after": v} for k, v in after.items()], "impact": {},
            "verified": False,
            "unverified_reason": f"{server} does not implement the write contract: nothing was read or previewed on "
                                 "it, the current values are unknown, and the call runs once, after approval"}


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence_window(evidence: dict[str, Any]) -> dict[str, Any]:
    """The window a source's rule looked at (`window: {end, days}`), so the metrics cover the same days."""
    window = evidence.get("window")
    if not isinstance(window, dict):
        return {}
    days, end = window.get("days"), window.get("end")
    return {**({"days": days} if type(days) is int else {}), **({"end_date": end} if isinstance(end, str) else {})}
