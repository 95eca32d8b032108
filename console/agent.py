"""The command line's agent: one warm process per project and configuration, so `ops` and `chat` answer at once.

A fresh `python -m console` process spends about 1.5 s importing the MCP SDK, SQLAlchemy and the console, then
spawns the MCP server it needs (~0.8 s), before it does any work. The first `ops` or `chat` command starts this
agent (detached; it holds the console database open and the server sessions it has used), and every later command
of the same project, working directory and configuration sends its arguments over a Unix socket instead: the agent
runs the command in its runtime and streams its output and exit code back. The client side of this module imports
nothing but the standard library.

The agent leaves after CONSOLE_CLI_AGENT_IDLE_S seconds without a command (default 600), when the code, a database
file, the key file or the servers document it started with changes (the command is then run in-process), and on
`python -m console agent stop`. CONSOLE_CLI_AGENT=off runs every command in its own process.

Trust: the agent runs commands for the same person who could run them in-process. Its socket lives in a directory
only that user can open (created 0700, refused when it is anyone else's or open to others), and it serves only
peers with its own uid (SO_PEERCRED). A command is never run twice: if the agent is lost mid-command, the client
says so and does not retry (`ops show` tells what happened).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROUTED = frozenset({"ops", "chat"})  # commands that gain from a warm runtime and need no terminal
OFF = frozenset({"off", "0", "false", "no"})
ENV_PREFIXES = ("CONSOLE_", "MARKET_", "ANTHROPIC_")
ENV_NAMES = frozenset({"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "TZ"})
ENV_IGNORED = frozenset({"CONSOLE_CLI_AGENT", "CONSOLE_CLI_AGENT_DIR", "CONSOLE_CLI_AGENT_IDLE_S"})
START_TIMEOUT_S = 60.0
REQUEST_LIMIT = 1 << 20
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
    with open(log, "ab") as out:
        os.chmod(log, 0o600)
        agent = subprocess.Popen([sys.executable, "-m", "console.agent", str(path)], stdin=subprocess.DEVNULL,
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


# ----- the agent -------------------------------------------------------------------------------------------------


class Watch:
    """What the agent's runtime was built from; a change means a fresh process must answer. A database file counts
    by identity (replaced, e.g. by a restore or a new seed), the key file and the servers document by content."""

    def __init__(self, settings: Any) -> None:
        self.databases = [f for f in (_sqlite_file(settings.database_url), _sqlite_file(settings.market_database_url))
                          if f is not None]
        self.documents = [f for f in (Path(settings.keyring), _servers_file(settings.mcp_servers)) if f is not None]
        self.seen = self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        return {"the code": code_fingerprint(), **{str(f): _identity(f, False) for f in self.databases},
                **{str(f): _identity(f, True) for f in self.documents}}

    def changed(self) -> str | None:
        now = self.snapshot()
        return next((name for name, value in now.items() if self.seen.get(name) != value), None)


def code_fingerprint() -> tuple[int, int]:
    """(number of source files, newest modification) of the console's own code."""
    count = newest = 0
    for part in ("console", "mcp_bridge", "servers"):
        for folder, dirs, files in os.walk(ROOT / part):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    count += 1
                    with contextlib.suppress(OSError):
                        newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    return count, newest


def _identity(path: Path, content: bool) -> tuple[int, int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_mtime_ns if content else 0, info.st_size if content else 0


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix):] in ("", ":memory:"):
        return None
    return Path(url[len(prefix):].split("?", 1)[0])


def _servers_file(value: str | None) -> Path | None:
    return Path(value) if value and not value.lstrip().startswith("{") else None


def peer_credentials(conn: socket.socket) -> tuple[int, int, int] | None:
    """(pid, uid, gid) of the process at the other end of a Unix socket (Linux), or None where unknown."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    return struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))


class Stream:
    """A text stream that sends each write to the client as one message; a client gone away is ignored (the
    command still runs to its end: stopping a write halfway is worse)."""

    def __init__(self, conn: socket.socket, kind: str) -> None:
        self.conn, self.kind, self.lost = conn, kind, False

    def write(self, text: str) -> int:
        if text and not self.lost:
            try:
                self.conn.sendall(json.dumps({self.kind: text}).encode() + b"\n")
            except OSError:
                self.lost = True
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def serve(path: Path, idle_s: float) -> int:
    """Build the runtime, then answer commands one at a time until idle, stale or stopped."""
    import fcntl
    import signal

    lock = os.open(path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)  # held for the agent's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another agent serves this place
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from console.cli import chat, main, ops  # noqa: F401 - chat and ops imported now, not during the first command
    from console.logs import configure_logging
    from console.runtime import Runtime, lend

    configure_logging()
    started = time.perf_counter()
    runtime = Runtime.create()
    watch = Watch(runtime.settings)
    lend(runtime)
    path.unlink(missing_ok=True)  # a dead agent's socket: the lock says none lives
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(16)
    server.settimeout(1.0)
    state = {"busy": False, "stop": ""}

    def on_term(*_: object) -> None:  # a command under way finishes first: stopping a write halfway is worse
        if state["busy"]:
            state["stop"] = "asked to stop"
        else:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    log.info("agent ready in %.2f s at %s (leaves after %.0f s without a command)", time.perf_counter() - started,
             path, idle_s)
    last = time.monotonic()
    try:
        while not state["stop"]:
            if time.monotonic() - last >= idle_s:
                state["stop"] = f"{idle_s:.0f} s without a command"
                break
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            state["busy"] = True
            try:
                with conn:
                    state["stop"] = answer(conn, main, watch) or state["stop"]
            finally:
                state["busy"] = False
            last = time.monotonic()
        log.info("leaving: %s", state["stop"])
    finally:
        path.unlink(missing_ok=True)
        server.close()
        lend(None)
        runtime.close()
    return 0


def answer(conn: socket.socket, main: Any, watch: Watch) -> str:
    """Run one command for a peer; a reason to leave, or an empty string."""
    credentials = peer_credentials(conn)
    if credentials is not None and credentials[1] != os.getuid():
        log.warning("refused a connection from another user")
        return ""
    conn.settimeout(10.0)
    try:
        line = conn.makefile("rb").readline(REQUEST_LIMIT)
        if not line:
            return ""  # a probe (`agent status`): connected, asked nothing
        argv = json.loads(line)["argv"]
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv) and argv[0] in ROUTED):
            raise ValueError("argv")
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("refused a malformed request")
        return ""
    conn.settimeout(None)
    if (change := watch.changed()) is not None:
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"stale": change}).encode() + b"\n")
        return f"{change} changed since the agent started"
    out, err = Stream(conn, "out"), Stream(conn, "err")
    handler = logging.StreamHandler(err)  # the command's warnings reach the person, as they would in-process
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # type: ignore[type-var]
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None) * 2
                if isinstance(exc.code, str):
                    print(exc.code, file=sys.stderr)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        logging.getLogger().removeHandler(handler)
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps({"exit": int(code or 0)}).encode() + b"\n")
    return ""


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


if __name__ == "__main__":
    idle = float(os.environ.get("CONSOLE_CLI_AGENT_IDLE_S") or IDLE_DEFAULT_S)
    sys.exit(serve(Path(sys.argv[1]), idle))
