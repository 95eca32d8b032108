"""The command line's agent: one warm process per project and configuration, so `ops` and `chat` answer at once.

A fresh `python -m console` process spends about 1.5 s importing the MCP SDK, SQLAlchemy and the console, then
spawns the MCP server it needs (~0.8 s), before it does any work. The first `ops` or `chat` command starts this
agent (detached; it holds the console database open and the server sessions it has used), and every later command
of the same project, working directory and configuration sends its arguments over a Unix socket instead: the agent
runs the command in its runtime and streams its output and exit code back (server.py: commands side by side, each in
its own thread). This module is the client side and imports nothing but the standard library.

The agent leaves after CONSOLE_CLI_AGENT_IDLE_S seconds without a command (default 600), when the code, a database
file, the key file or the servers document it started with changes (the command is then run in-process), and on
`python -m console agent stop`. CONSOLE_CLI_AGENT=off runs every command in its own process.

Trust: the agent runs commands for the same person who could run them in-process. Its socket lives in a directory
only that user can open (created 0700, refused when it is anyone else's or open to others), and it serves only
peers with its own uid (SO_PEERCRED). A command is never run twice: if the agent is lost mid-command, the client
says so and does not retry (`ops show` tells what happened).
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
ENV_PREFIXES = ("CONSOLE_", "MARKET_", "ANTHROPIC_")
ENV_NAMES = frozenset({"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "TZ"})
ENV_IGNORED = frozenset({"CONSOLE_CLI_AGENT", "CONSOLE_CLI_AGENT_DIR", "CONSOLE_CLI_AGENT_IDLE_S"})
START_TIMEOUT_S = 60.0
REQUEST_LIMIT = 1 << 20
LOG_LIMIT = 1 << 20
IDLE_DEFAULT_S = 600.0
EXIT_LOST = 1  # the agent went away mid-command: the outcome is not known here
log = logging.getLogger("console.agent")


# ----- where the agent lives -------------------------------------------------------------------------------------


def agent_key(environ: dict[str, str] | None = None, cwd: str | None = None) -> str:
    """One agent per project, interpreter, working directory and configuration (the variables the console reads)."""
    environ = os.environ if environ is None else environ
    config = sorted((k, v) for k, v in environ.items()
                    if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and k not in ENV_IGNORED)
    blob = json.dumps({"root": str(ROOT), "python": sys.executable, "cwd": cwd or os.getcwd(), "env": config})
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
    environ = os.environ if environ is None else environ
    return environ.get("CONSOLE_CLI_AGENT", "auto").strip().lower() not in OFF and hasattr(socket, "AF_UNIX")


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
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:  # no agent, or one that died and left its socket behind
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
        agent = subprocess.Popen([sys.executable, "-m", "console.agent.server", str(path)], stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=out, cwd=os.getcwd(), start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        conn = connect(path)
        if conn is not None:
            return conn
        code = agent.poll()
        if code not in (None, 0):  # 0: another agent won the start and is coming up; keep waiting for it
            return None
        time.sleep(0.02)
    return None


def relay(conn: socket.socket, argv: list[str]) -> int | None:
    """Send the command, copy what it writes to our stdout and stderr, return its exit code (None: not run)."""
    with conn:
        try:
            conn.sendall(json.dumps({"argv": argv}).encode() + b"\n")
            reader = conn.makefile("rb")
        except OSError:
            return None
        started = False
        for line in reader:
            message = json.loads(line)
            if "stale" in message:
                return None  # the agent predates a change and is leaving; nothing ran
            started = True
            if "out" in message:
                sys.stdout.write(message["out"])
                sys.stdout.flush()
            elif "err" in message:
                sys.stderr.write(message["err"])
                sys.stderr.flush()
            elif "exit" in message:
                return int(message["exit"])
    if not started:
        return None  # it went away before taking the command
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


def stop(path: Path, wait_s: float = 30.0) -> bool:
    """Ask the agent at `path` to leave (its command under way finishes first) and wait until it has; whether one
    was there."""
    pid = peer_pid(path)
    if pid is None:
        return False
    os.kill(pid, 15)
    deadline = time.monotonic() + wait_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


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
