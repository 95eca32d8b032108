"""The command line's agent: one warm process per project and environment, so `ops` and `chat` answer at once.

A fresh `python -m console` process spends about 1.1 s importing the MCP SDK, SQLAlchemy and the console, then
spawns the MCP server it needs (~1 s), before it does any work. The first `ops` or `chat` command starts this agent
(detached; it holds the console database open and the server sessions it has used), and every later command of the
same project, interpreter, working directory, umask and environment (less what differs between terminals) sends its
arguments over a Unix socket instead: the agent runs the command in its runtime and streams its output and exit code
back (server.py: commands side by side, each in its own thread). This module is the client side and imports nothing
but the standard library.

The agent leaves after CONSOLE_CLI_AGENT_IDLE_S seconds without a command (default 600), when the code, a database
file, the key file or the servers document it started with changes (the command is then run in-process), and on
`python -m console agent stop`. CONSOLE_CLI_AGENT=off runs every command in its own process.

Trust: the agent runs commands for the same person who could run them in-process. Its socket lives in a directory
only that user can open (created 0700, refused when it is anyone else's or open to others); the agent serves only
peers with its own uid and the client talks only to an agent with its own (SO_PEERCRED; without it, no agent). A
command is never run twice: once the agent said it took a command, the client never runs it itself, and an agent lost
mid-command is reported as an unknown outcome (`ops show` tells what happened).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project
ROUTED = frozenset({"ops", "chat"})  # commands that gain from a warm runtime and need no terminal
OFF = frozenset({"off", "0", "false", "no"})
# Variables that differ between two terminals of one person and change nothing a command does; every other one is
# part of the configuration (the settings read CONSOLE_* in any case; PATH, HOME, proxies reach the servers and SDKs).
ENV_VOLATILE = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES", "WINDOWID", "TMUX_PANE", "TERM_SESSION_ID",
                          "CONSOLE_CLI_AGENT", "CONSOLE_CLI_AGENT_DIR", "CONSOLE_CLI_AGENT_IDLE_S"})
ENV_VOLATILE_PREFIXES = ("SSH_", "PYTEST_", "XDG_SESSION_")
START_TIMEOUT_S = 60.0
REQUEST_LIMIT = 1 << 20
LOG_LIMIT = 1 << 20
IDLE_DEFAULT_S = 600.0
EXIT_LOST = 1  # the agent went away mid-command: the outcome is not known here
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports it
LOST_START_GRACE_S = 2.0
log = logging.getLogger("console.cli_agent")


# ----- where the agent lives -------------------------------------------------------------------------------------


def agent_key(environ: dict[str, str] | None = None, cwd: str | None = None) -> str:
    """One agent per project, interpreter, working directory, umask and environment (less what only differs between
    terminals): an agent answers only commands that would run exactly as they would in their own process."""
    environ = os.environ if environ is None else environ
    config = sorted((k, v) for k, v in environ.items()
                    if k.upper() not in ENV_VOLATILE and not k.upper().startswith(ENV_VOLATILE_PREFIXES))
    mask = os.umask(0o022)
    os.umask(mask)
    blob = json.dumps({"root": str(ROOT), "python": sys.executable, "cwd": cwd or os.getcwd(), "umask": mask,
                       "env": config})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def agent_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The user's private directory for agent sockets, or None when it is not private (then nothing is shared)."""
    environ = os.environ if environ is None else environ
    if environ.get("CONSOLE_CLI_AGENT_DIR"):
        place = Path(environ["CONSOLE_CLI_AGENT_DIR"])
    elif environ.get("XDG_RUNTIME_DIR"):
        place = Path(environ["XDG_RUNTIME_DIR"]) / "operator-console"
    else:
        place = Path("/tmp") / f"operator-console-{os.getuid()}"
    try:
        place.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = place.lstat()
    except OSError:
        return None
    private = (not place.is_symlink() and place.is_dir() and info.st_uid == os.getuid()
               and info.st_mode & 0o077 == 0)
    return place if private else None


def socket_path(place: Path, key: str) -> Path:
    return place / f"{key}.sock"


def enabled(environ: dict[str, str] | None = None) -> bool:
    """On unless turned off, where the kernel names a socket's peer (Linux): the agent serves its own user only."""
    environ = os.environ if environ is None else environ
    return (environ.get("CONSOLE_CLI_AGENT", "auto").strip().lower() not in OFF and hasattr(socket, "AF_UNIX")
            and hasattr(socket, "SO_PEERCRED"))


# ----- the client ------------------------------------------------------------------------------------------------


def run_through_agent(argv: list[str]) -> int | None:
    """Run a routed command through the agent (starting it when none runs); None: run it in this process."""
    if not argv or argv[0] not in ROUTED or not enabled() or {"-h", "--help"} & set(argv):
        return None
    place = agent_dir()
    if place is None:
        return None
    path = socket_path(place, agent_key())
    conn = connect(path) or start(path)
    if conn is None:
        return None
    return relay(conn, argv)


def connect(path: Path) -> socket.socket | None:
    """A connection to the agent at `path`, if one of our own user answers there."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        credentials = peer_credentials(conn)
    except OSError:  # no agent, or one that died and left its socket behind
        conn.close()
        return None
    if credentials is None or credentials[1] != os.getuid():
        conn.close()
        return None
    return conn


def start(path: Path) -> socket.socket | None:
    """Spawn a detached agent for `path` and wait until it answers; None when it cannot start (the command then runs
    in-process and says why in its own words)."""
    log = path.with_suffix(".log")
    if log.exists() and log.stat().st_size > LOG_LIMIT:
        log.replace(log.with_suffix(".log.1"))  # one older log is kept
    with open(log, "ab") as out:
        os.chmod(log, 0o600)
        agent = subprocess.Popen([sys.executable, "-m", "console.cli_agent.server", str(path)], stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=out, cwd=os.getcwd(), start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        conn = connect(path)
        if conn is not None:
            return conn
        code = agent.poll()
        if code is not None:
            # 0: another agent holds the place. It listens as soon as it has the lock, so a moment's wait finds it;
            # none there means it is finishing its last commands: this one runs in its own process.
            deadline = min(deadline, time.monotonic() + LOST_START_GRACE_S) if code == 0 else 0
        time.sleep(0.02)
    return None


def relay(conn: socket.socket, argv: list[str]) -> int | None:
    """Send the command, copy what it writes to our stdout and stderr, return its exit code.

    None (run it in this process) only while the agent has surely not started it: it said it is stale, or it went
    away before saying it took the command. From "accepted" on, a lost agent means an unknown outcome, never a retry.
    """
    accepted = False
    with conn:
        try:
            conn.sendall(json.dumps({"argv": argv}).encode() + b"\n")
            for line in conn.makefile("rb"):
                message = json.loads(line)
                if "stale" in message and not accepted:
                    return None  # the agent predates a change and is leaving; nothing ran
                if "accepted" in message:
                    accepted = True
                elif "out" in message:
                    sys.stdout.write(message["out"])
                    sys.stdout.flush()
                elif "err" in message:
                    sys.stderr.write(message["err"])
                    sys.stderr.flush()
                elif "exit" in message and accepted:
                    return int(message["exit"])
        except KeyboardInterrupt:  # the agent may have the command already: it is never run a second time here
            print("\ninterrupted: the command may go on in the console agent (an approval still runs once); "
                  "python -m console ops show ID, or chat --list, tells what it did", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (OSError, ValueError):  # a connection reset, a cut-off line
            pass
    if not accepted:
        return None
    print("the console agent stopped before the command finished; its outcome is unknown here "
          "(python -m console ops show ID tells what happened to an operation)", file=sys.stderr)
    return EXIT_LOST


# ----- the agent's own --------------------------------------------------------------------------------------------


def peer_credentials(conn: socket.socket) -> tuple[int, int, int] | None:
    """(pid, uid, gid) of the process at the other end of a Unix socket (Linux), or None where unknown."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    return struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))


def peer_pid(path: Path) -> int | None:
    """The process of this user serving the socket at `path`, or None."""
    conn = connect(path)
    if conn is None:
        return None
    with conn:
        credentials = peer_credentials(conn)
    return credentials[0] if credentials and credentials[1] == os.getuid() else None


def stop(path: Path, wait_s: float = 30.0) -> int | None:
    """Ask the agent at `path` to leave (its commands under way finish first; it takes no new one) and wait up to
    `wait_s` for it; its pid if it is still finishing then, 0 if it left, None if none was there."""
    pid = peer_pid(path)
    if pid is None:
        return None
    os.kill(pid, 15)
    deadline = time.monotonic() + wait_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pid if alive(pid) else 0


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody has reaped yet does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][:1] != "Z"
    except OSError:
        return not os.path.exists("/proc/self")
