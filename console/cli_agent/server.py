"""The agent itself (`python -m console.cli_agent.server SOCKET`): one runtime, commands answered side by side.

Each connection is one command, run in a thread of its own as `console.cli.main` would run it in-process; what it
prints goes back over its connection (sys.stdout and sys.stderr route by thread), so a long chat turn does not hold
up an `ops list` from another terminal. The runtime is shared the way the app shares it between sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from console.cli_agent import IDLE_DEFAULT_S, REQUEST_LIMIT, ROOT, ROUTED, peer_credentials

log = logging.getLogger("console.cli_agent")
SEND_TIMEOUT_S = 60.0
_local = threading.local()  # this thread's command streams


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


def code_fingerprint() -> str:
    """The console's code and catalogues (each file's name, size, inode, modification: a copy that keeps old times
    still changes inodes) and the installed libraries (their directories change when a package is added or
    upgraded)."""
    digest = hashlib.sha256()
    for part in ("console", "mcp_bridge", "servers"):
        for folder, dirs, files in os.walk(ROOT / part):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".po", ".mo", ".json", ".ini", ".mako")):
                    with contextlib.suppress(OSError):
                        info = os.stat(os.path.join(folder, name))
                        digest.update(f"{folder}/{name}:{info.st_size}:{info.st_ino}:{info.st_mtime_ns};".encode())
    for folder in sorted({p for p in sys.path if p.endswith("-packages")}):
        with contextlib.suppress(OSError):
            digest.update(f"{folder}:{os.stat(folder).st_mtime_ns};".encode())
    return digest.hexdigest()


def _identity(path: Path, content: bool) -> tuple[int, int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_mtime_ns if content else 0, info.st_size if content else 0


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _servers_file(value: str | None) -> Path | None:
    return Path(value) if value and not value.lstrip().startswith("{") else None


class Stream:
    """A text stream that sends each write to the client as one message; a client gone away is ignored (the
    command still runs to its end: stopping a write halfway is worse)."""

    encoding, errors = "utf-8", "strict"  # what the client writes it as (JSON carries any text)

    def __init__(self, conn: socket.socket, kind: str) -> None:
        self.conn, self.kind, self.lost = conn, kind, False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if text and not self.lost:
            try:
                with self._lock:
                    self.conn.sendall(json.dumps({self.kind: text}).encode() + b"\n")
            except OSError:
                self.lost = True
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Routed:
    """sys.stdout / sys.stderr of the agent: a command's thread writes to its connection, any other to the log."""

    def __init__(self, kind: str, fallback: Any) -> None:
        self.kind, self.fallback = kind, fallback

    def _target(self) -> Any:
        return getattr(_local, self.kind, None) or self.fallback

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


class OwnThread(logging.Filter):
    """Records of one thread only: a command's warnings go to its own person."""

    def __init__(self) -> None:
        super().__init__()
        self.ident = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.ident


class Agent:
    def __init__(self, path: Path, idle_s: float) -> None:
        self.path, self.idle_s = path, idle_s
        self.stop = ""
        self.running: set[threading.Thread] = set()
        self.last = time.monotonic()
        self.guard = threading.Lock()
        self.runtime: Any = None

    def serve(self) -> int:
        """Listen, build the runtime, then answer commands until idle, stale or stopped (commands under way finish).

        It listens as soon as it holds the place, before the runtime is built: the first client queues meanwhile,
        and a client that finds the lock held but no socket knows the holder is finishing, not starting."""
        import fcntl

        lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)  # held for the agent's life
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another agent serves this place
        os.ftruncate(lock, 0)
        os.write(lock, f"{os.getpid()}\n".encode())  # who holds it (tests stop agents still starting by it)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.path.unlink(missing_ok=True)  # a dead agent's socket: the lock says none lives
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        server.listen(16)
        server.settimeout(0.5)
        signal.signal(signal.SIGTERM, lambda *_: self.leave("asked to stop"))
        try:
            return self._serve(server)
        finally:
            self.path.unlink(missing_ok=True)  # no new command comes in; those under way finish
            server.close()
            with self.guard:
                workers = list(self.running)
            for worker in workers:
                worker.join()
            self._close_runtime()

    def _serve(self, server: socket.socket) -> int:
        from console.cli import chat, main, ops  # noqa: F401 - chat and ops imported now, not in the first command
        from console.logs import configure_logging
        from console.runtime import Runtime, lend

        configure_logging()
        started = time.perf_counter()
        self.runtime = Runtime.create()  # a failure ends the agent; its queued clients run their commands themselves
        self.watch, self.main = Watch(self.runtime.settings), main
        lend(self.runtime)
        sys.stdout, sys.stderr = Routed("out", sys.stdout), Routed("err", sys.stderr)
        log.info("agent ready in %.2f s at %s (leaves after %.0f s without a command)",
                 time.perf_counter() - started, self.path, self.idle_s)
        self.last = time.monotonic()
        while not self.stop:
            if not self.running and time.monotonic() - self.last >= self.idle_s:
                self.leave(f"{self.idle_s:.0f} s without a command")
                break
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            worker = threading.Thread(target=self.answer, args=(conn,), name="agent-command", daemon=True)
            with self.guard:
                self.running.add(worker)
            worker.start()
        log.info("leaving: %s", self.stop)
        return 0

    def _close_runtime(self) -> None:
        if self.runtime is not None:
            from console.runtime import lend

            lend(None)
            self.runtime.close()

    def leave(self, reason: str) -> None:
        self.stop = self.stop or reason

    def answer(self, conn: socket.socket) -> None:
        ran = False
        try:
            with conn:
                ran = self._answer(conn)
        finally:
            with self.guard:
                self.running.discard(threading.current_thread())
                if ran:  # a probe (`agent status`) or a refused request does not keep the agent alive
                    self.last = time.monotonic()

    def _answer(self, conn: socket.socket) -> bool:
        """One connection: whether a command ran."""
        credentials = peer_credentials(conn)
        if credentials is None or credentials[1] != os.getuid():
            log.warning("refused a connection from another user")
            return False
        conn.settimeout(10.0)
        try:
            line = conn.makefile("rb").readline(REQUEST_LIMIT)
            if not line:
                return False  # a probe (`agent status`): connected, asked nothing
            argv = json.loads(line)["argv"]
            if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv) and argv[0] in ROUTED):
                raise ValueError("argv")
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("refused a malformed request")
            return False
        # A client that stops reading (suspended, or piped into a pager) is given up on after a minute: the command
        # runs to its end, its output is dropped, and the agent can still leave.
        conn.settimeout(SEND_TIMEOUT_S)
        try:
            if self.stop or (change := self.watch.changed()) is not None:
                conn.sendall(json.dumps({"stale": self.stop or change}).encode() + b"\n")
                self.leave(self.stop or f"{change} changed since the agent started")
                return False
            conn.sendall(b'{"accepted": true}\n')  # from here on the client never runs the command itself
        except OSError:
            return False
        code = self.run(argv, Stream(conn, "out"), Stream(conn, "err"))
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        return True

    def run(self, argv: list[str], out: Stream, err: Stream) -> int:
        """The command, as in its own process: its output to its client, its warnings too."""
        _local.out, _local.err = out, err
        handler = logging.StreamHandler(err)  # as Python's last-resort handler prints them in a process of its own
        handler.setLevel(logging.WARNING)
        handler.addFilter(OwnThread())
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        try:
            return int(self.main(argv) or 0)
        except SystemExit as exc:  # argparse's usage errors; exit codes as the interpreter gives them
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except Exception:
            traceback.print_exc()
            return 1
        finally:
            self._settle()
            logging.getLogger().removeHandler(handler)
            _local.out = _local.err = None

    def _settle(self) -> None:
        """What closing a runtime does at the end of a command in its own process: the reads' result rows written,
        the audit chain checkpointed to its anchor, before the client hears the command is done."""
        if self.runtime is None:
            return
        try:
            self.runtime.bridge.calls.flush()
            self.runtime.bridge.audit.checkpoint()
        except Exception:  # the flusher and the next checkpoint still cover them
            log.exception("audit rows or checkpoint not written at the end of a command")


if __name__ == "__main__":
    idle = float(os.environ.get("CONSOLE_CLI_AGENT_IDLE_S") or IDLE_DEFAULT_S)
    sys.exit(Agent(Path(sys.argv[1]), idle).serve())
