"""`python -m console chat --as EMAIL [--site S] [--conversation ID] "message"`: one chat turn in the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from mcp_bridge.errors import ConsoleError, SiteScopeRequired, ValidationFailed

EXIT_ERROR = 2  # the turn failed or was refused (the message says which code)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="one chat turn with Claude (or the offline assistant) over the bridge")
    parser.add_argument("--as", dest="user", required=True, help="email of the chatting user")
    parser.add_argument("--site", help="active site (default: the conversation's, else the user's first site); a site of "
                                       "theirs the message names wins, one outside their scope is refused")
    parser.add_argument("--conversation", help="continue this conversation (ids: --list)")
    parser.add_argument("--list", action="store_true", help="list the user's conversations with their token and cost totals")
    parser.add_argument("message", nargs="?", help="what to ask")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from console.chat_service import shared_chat
    from console.runtime import Runtime

    try:
        with Runtime.create() as runtime:
            caller = runtime.users.caller(args.user, "cli")
            chat = shared_chat(runtime)
            if args.list:
                return list_conversations(chat, caller.user, sys.stdout)
            if not args.message or not args.message.strip():
                raise ValidationFailed('say something: python -m console chat --as EMAIL "message"')
            site = args.site or (chat.get(args.conversation, user=caller.user).site if args.conversation else None)
            site = site or (sorted(caller.sites)[0] if caller.sites else None)
            if site is None:
                raise SiteScopeRequired(f"{caller.user} has no sites; an admin can grant one with `users grant`")
            if not caller.may_see(site):
                raise SiteScopeRequired(f"{caller.user} has no access to site {site}; theirs: {', '.join(sorted(caller.sites))}")
            if chat.offline:
                print("[offline demo assistant — set ANTHROPIC_API_KEY to use Claude]", file=sys.stderr)
            return render(chat.run_turn(caller, args.conversation, args.message, site=site), sys.stdout, sys.stderr)
    except ConsoleError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR


def render(events: Any, out: TextIO, err: TextIO) -> int:
    """Stream a turn's events as text; returns the exit code (non-zero when the turn ended in an error)."""
    # Imported here: the agent brings the anthropic SDK (seconds to import), which other commands never need.
    from mcp_bridge.agent.events import (
        AgentError,
        OperationProposed,
        TextDelta,
        ToolFinished,
        ToolStarted,
        TurnDone,
        Usage,
    )

    failed = False
    started: dict[str, ToolStarted] = {}
    at_line_start = True

    def line(text: str) -> None:
        nonlocal at_line_start
        out.write(("" if at_line_start else "\n") + text + "\n")
        out.flush()
        at_line_start = True

    for event in events:
        if isinstance(event, TextDelta):
            out.write(event.text)
            out.flush()
            at_line_start = event.text.endswith("\n")
        elif isinstance(event, ToolStarted):
            started[event.call_id] = event
            line(f"→ {event.name} {json.dumps(event.arguments, ensure_ascii=False, default=str)}")
        elif isinstance(event, ToolFinished):
            line(f"← {event.status} {event.duration_ms:.0f} ms  {event.summary}")
        elif isinstance(event, OperationProposed):
            line(f"⧗ pending approval #{event.operation_id} (batch {event.batch_id}): {event.summary}")
        elif isinstance(event, Usage):
            line(f"— tokens: input {event.input}, output {event.output}, cache write {event.cache_write}, "
                 f"cache read {event.cache_read} · cost ${event.cost_usd:.6f}")
        elif isinstance(event, AgentError):
            failed = True
            if not at_line_start:
                out.write("\n")
                at_line_start = True
            print(f"{event.code}: {event.message}", file=err)
        elif isinstance(event, TurnDone):
            line(f"— conversation {event.conversation_id} (continue with --conversation {event.conversation_id})")
    return EXIT_ERROR if failed else 0


def list_conversations(chat: Any, user: str, out: TextIO) -> int:
    rows = chat.list_for(user)
    if not rows:
        print(f"{user} has no conversations yet", file=out)
    for c in rows:
        t = c.totals
        print(f"{c.id}  {c.updated_at:%Y-%m-%d %H:%M}  {c.site}  {c.turns} turns  in {t.input} out {t.output} "
              f"cache w {t.cache_write} r {t.cache_read}  ${t.cost_usd:.6f}  {c.title}", file=out)
    return 0
