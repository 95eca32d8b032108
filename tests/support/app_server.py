"""Start the real console (`python -m console serve`, as `make run` does) on a free port against seeded temporary
databases.

`console_app(...)` (a fixture returning a starter) seeds a market and a console database under a tmp dir,
writes a secrets.toml when given one (Streamlit reads it through `--secrets.files`, so the developer's own
.streamlit/secrets.toml never leaks into a test), starts the server and waits until it answers.
Servers started by a test are stopped when it ends; the server's log is kept next to the databases.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKET_TODAY = dt.date(2026, 11, 21)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    url: str
    port: int
    workdir: Path
    console_url: str
    market_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database with its write-ahead log applied (a plain file copy can miss recent rows)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def seed_databases(directory: Path) -> tuple[str, str]:
    """A demo-scale market (servers.market.seed) and a console database with the demo users, in `directory`."""
    from console.runtime import Runtime
    from console.settings import Settings
    from servers.market.seed import seed_market

    directory.mkdir(parents=True, exist_ok=True)
    market_url = f"sqlite:///{directory / 'market.db'}"
    console_url = f"sqlite:///{directory / 'console.db'}"
    seed_market(market_url, scale="demo", today=MARKET_TODAY)
    runtime = Runtime.create(Settings(database_url=console_url, market_database_url=market_url, env="test"))
    try:
        runtime.users.seed_demo()
    finally:
        runtime.close()
    return console_url, market_url


def start_app(workdir: Path, *, template: Path | None = None, env: dict[str, str] | None = None,
              secrets_toml: str | None = None, port: int | None = None, timeout_s: float = 90) -> AppServer:
    """Copy (or seed) the databases into `workdir`, then run the app there and wait for its health check."""
    workdir.mkdir(parents=True, exist_ok=True)
    if template is not None:
        for name in ("market.db", "console.db"):
            copy_sqlite(template / name, workdir / name)
        console_url, market_url = f"sqlite:///{workdir / 'console.db'}", f"sqlite:///{workdir / 'market.db'}"
    else:
        console_url, market_url = seed_databases(workdir)
    secrets_path = workdir / "secrets.toml"
    if secrets_toml is not None:
        secrets_path.write_text(secrets_toml)
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSOLE_", "ANTHROPIC_", "STREAMLIT_"))}
    child_env.update({
        "CONSOLE_ENV": "test",
        "CONSOLE_DATABASE_URL": console_url,
        "MARKET_DATABASE_URL": market_url,
        "MARKET_TODAY": MARKET_TODAY.isoformat(),
        "CONSOLE_KEYRING": str(workdir / "keyring.json"),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    })
    log_path = workdir / "streamlit.log"
    command = [
        sys.executable, "-m", "console", "serve",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.showErrorDetails", "full",
        # An absent file when no secrets are given: the demo sign-in, whatever the developer configured.
        "--secrets.files", str(secrets_path),
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(f"http://127.0.0.1:{port}", port, workdir, console_url, market_url, process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.log()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f} s:\n{server.log()[-4000:]}")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded databases made once per test run; each app gets its own copy."""
    directory = tmp_path_factory.mktemp("seeded")
    seed_databases(directory)
    return directory


@pytest.fixture
def console_app(tmp_path: Path, seeded_template: Path) -> Iterator[Callable[..., AppServer]]:
    """Start apps on demand: `console_app(env={...}, secrets_toml=...)`; all are stopped after the test."""
    started: list[AppServer] = []

    def start(**kwargs) -> AppServer:
        server = start_app(tmp_path / f"app{len(started)}", template=seeded_template, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
