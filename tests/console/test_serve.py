"""`python -m console serve`: the app answers its health check and, with no one visiting, has made its runtime and
started the MCP servers; a warm-up that fails leaves the app serving and says why in the log. And the process runtime
both paths share: one per process, whoever asks first, and a failure is not kept."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest

import console.runtime as runtime_module
from console.runtime import Runtime, process_runtime
from console.settings import Settings

SERVERS = {"servers.ads", "servers.commerce", "servers.analytics"}


def server_children(pid: int) -> set[str]:
    """The `python -m servers.<name>` modules among the child processes of `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) != pid:
                continue
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
        found.update(arg.decode() for arg in argv if arg.decode() in SERVERS)
    return found


def wait_for(check, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
        return response.status == 200


@pytest.mark.slow
def test_serve_starts_the_mcp_servers_with_the_app_before_anyone_visits(console_app) -> None:
    app = console_app()

    assert healthy(app.url)
    assert wait_for(lambda: server_children(app.process.pid) == SERVERS), (server_children(app.process.pid), app.log())
    assert wait_for(lambda: "console warm in" in app.log()), app.log()
    assert "warm-up failed" not in app.log()


@pytest.mark.slow
def test_a_failing_warm_up_leaves_the_app_serving_and_the_log_names_the_problem(console_app, tmp_path: Path) -> None:
    unusable = f"sqlite:///{tmp_path / 'no-such-dir' / 'console.db'}"
    app = console_app(env={"CONSOLE_DATABASE_URL": unusable})

    assert wait_for(lambda: "console warm-up failed" in app.log()), app.log()
    assert "OperationalError" in app.log() and "unable to open database file" in app.log()
    assert healthy(app.url)
    assert app.process.poll() is None
    assert server_children(app.process.pid) == set()


@pytest.fixture
def no_process_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process runtime starts unmade, and whatever a test makes is forgotten after it."""
    monkeypatch.setattr(runtime_module, "_process_runtime", None)


def test_callers_at_once_share_one_process_runtime(no_process_runtime, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'console.db'}",
                        market_database_url=f"sqlite:///{tmp_path / 'market.db'}", audit_anchor="",
                        keyring=str(tmp_path / "keyring.json"))
    made = []
    create = Runtime.create

    def slow_create(*args, **kwargs) -> Runtime:
        made.append(1)
        time.sleep(0.3)  # the others ask meanwhile
        return create(*args, **kwargs)

    monkeypatch.setattr(Runtime, "create", slow_create)
    monkeypatch.setattr(Runtime, "reconcile_in_background", lambda self: None)  # no servers: not the subject here
    got: list[Runtime] = []
    callers = [threading.Thread(target=lambda: got.append(process_runtime(settings))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    try:
        assert (len(made), len(got), len({id(r) for r in got})) == (1, 4, 1)
        assert process_runtime(settings.model_copy()) is got[0]  # equal settings: the same runtime
    finally:
        got[0].close()


def test_a_failed_process_runtime_is_not_kept(no_process_runtime, tmp_path: Path) -> None:
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'console.db'}")

    for _attempt in range(2):  # the warm-up's failure, then the first page's: each meets the error itself
        with pytest.raises(Exception, match="unable to open database file"):
            process_runtime(settings)
    assert runtime_module._process_runtime is None
