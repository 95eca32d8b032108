"""`python -m console agent status|stop`: the command line's warm agents (console/cli_agent/)."""

from __future__ import annotations

import argparse
import os

from console import cli_agent as agent


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("agent", help="the warm process that answers `ops` and `chat` commands (status, stop)")
    actions = parser.add_subparsers(dest="agent_command", required=True)
    status = actions.add_parser("status", help="the running agents of this user, this configuration's marked *")
    status.set_defaults(run=show_status)
    stop = actions.add_parser("stop", help="stop this configuration's agent (its command under way finishes first)")
    stop.add_argument("--all", action="store_true", help="every agent of this user")
    stop.set_defaults(run=stop_agents)


def _running() -> tuple[os.PathLike | None, list[tuple[str, int]]]:
    place = agent.agent_dir()
    if place is None:
        return None, []
    found = []
    for path in sorted(place.glob("*.sock")):
        pid = agent.peer_pid(path)
        if pid is not None:
            found.append((path.stem, pid))
    return place, found


def show_status(args: argparse.Namespace) -> int:
    place, found = _running()
    if not agent.enabled():
        print("the agent is off here (CONSOLE_CLI_AGENT=off): every command runs in its own process")
    if place is None:
        print("no private directory for agents (set CONSOLE_CLI_AGENT_DIR to a directory only you can open)")
        return 0
    mine = agent.agent_key()
    for key, pid in found:
        print(f"{'*' if key == mine else ' '} {key} pid {pid} · log {place}/{key}.log")
    if not found:
        print(f"no agent runs ({place}); the next `ops` or `chat` command starts one")
    return 0


def stop_agents(args: argparse.Namespace) -> int:
    place, found = _running()
    mine = agent.agent_key()
    outcomes = [agent.stop(place / f"{key}.sock") for key, _ in found if args.all or key == mine]
    stopped = sum(outcome == 0 for outcome in outcomes)
    finishing = [str(pid) for pid in outcomes if pid]
    print(f"stopped {stopped} agent(s)" if stopped or finishing else "no agent to stop")
    if finishing:  # they take no new command; what they run ends first
        print(f"still finishing their commands: pid {', '.join(finishing)}")
    return 0
