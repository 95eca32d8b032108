"""The agent itself (`python -m console.agent.server SOCKET`): one runtime, commands answered side by side.

Each connection is one command, run in a thread of its own as `console.cli.main` would run it in-process; what it
prints goes back over its connection (sys.stdout and sys.stderr route by thread), so a long chat turn does not hold
up an `ops list` from another terminal. The runtime is shared the way the app shares it between sessions.
"""

from __future__ import annotations

import contextlib
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

from console.agent import IDLE_DEFAULT_S, REQUEST_LIMIT, ROOT, ROUTED, peer_credentials

log = logging.getLogger("console.agent")
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


class Stream:
    """A text stream that sends each write to the client as one message; a client gone away is ignored (the
    command still runs to its end: stopping a write halfway is worse)."""

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

    def serve(self) -> int:
        """Build the runtime, then answer commands until idle, stale or stopped (commands under way finish)."""
        import fcntl

        lock = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)  # held for the agent's life
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another agent serves this place
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from console.cli import chat, main, ops  # noqa: F401 - chat and ops imported now, not in the first command
        from console.logs import configure_logging
        from console.runtime import Runtime, lend

        configure_logging()
        started = time.perf_counter()
        runtime = Runtime.create()
        self.watch, self.main = Watch(runtime.settings), main
        lend(runtime)
        sys.stdout, sys.stderr = Routed("out", sys.stdout), Routed("err", sys.stderr)
        self.path.unlink(missing_ok=True)  # a dead agent's socket: the lock says none lives
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        server.listen(16)
        server.settimeout(0.5)
        signal.signal(signal.SIGTERM, lambda *_: self.leave("asked to stop"))
        log.info("agent ready in %.2f s at %s (leaves after %.0f s without a command)",
                 time.perf_counter() - started, self.path, self.idle_s)
        try:
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
        finally:
            self.path.unlink(missing_ok=True)  # no new command comes in; those under way finish
            server.close()
            for worker in list(self.running):
                worker.join()
            lend(None)
            runtime.close()
        return 0

    def leave(self, reason: str) -> None:
        self.stop = self.stop or reason

    def answer(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._answer(conn)
        finally:
            with self.guard:
                self.running.discard(threading.current_thread())
                self.last = time.monotonic()

    def _answer(self, conn: socket.socket) -> None:
        credentials = peer_credentials(conn)
        if credentials is not None and credentials[1] != os.getuid():
            log.warning("refused a connection from another user")
            return
        conn.settimeout(10.0)
        try:
            line = conn.makefile("rb").readline(REQUEST_LIMIT)
            if not line:
                return  # a probe (`agent status`): connected, asked nothing
            argv = json.loads(line)["argv"]
            if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv) and argv[0] in ROUTED):
                raise ValueError("argv")
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("refused a malformed request")
            return
        conn.settimeout(None)
        if self.stop or (change := self.watch.changed()) is not None:
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"stale": self.stop or change}).encode() + b"\n")
            self.leave(self.stop or f"{change} changed since the agent started")
            return
        code = self.run(argv, Stream(conn, "out"), Stream(conn, "err"))
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"exit": code}).encode() + b"\n")

    def run(self, argv: list[str], out: Stream, err: Stream) -> int:
        """The command, as in its own process: its output to its client, its warnings too."""
        _local.out, _local.err = out, err
        handler = logging.StreamHandler(err)
        handler.setLevel(logging.WARNING)
        handler.addFilter(OwnThread())
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        try:
            return int(self.main(argv) or 0)
        except SystemExit as exc:  # argparse's usage errors
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            return exc.code if isinstance(exc.code, int) else int(exc.code is not None) * 2
        except Exception:
            traceback.print_exc()
            return 1
        finally:
            logging.getLogger().removeHandler(handler)
            _local.out = _local.err = None


if __name__ == "__main__":
    idle = float(os.environ.get("CONSOLE_CLI_AGENT_IDLE_S") or IDLE_DEFAULT_S)
    sys.exit(Agent(Path(sys.argv[1]), idle).serve())
