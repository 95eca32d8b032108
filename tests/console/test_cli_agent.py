"""The command line's warm agent (console/cli_agent/): `ops` and `chat` answer from one long-lived process per
configuration, exactly as they would in their own process, and never run a command twice or for anyone else."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path
from types import SimpleNamespace

import pytest

from console import cli_agent as agent
from console.cli_agent.server import Watch
from console.settings import PROJECT_ROOT
from tests.support.console_db import applied_writes, cli_env, keyword, make_runtime, market_value


class AgentCli:
    def __init__(self, env: dict[str, str], place: Path) -> None:
        self.env, self.place = env, place

    def __call__(self, *args: str, **env: str) -> tuple[int, str, str]:
        proc = subprocess.run([sys.executable, "-m", "console", *args], cwd=PROJECT_ROOT, env={**self.env, **env},
                              text=True, capture_output=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    def sockets(self) -> list[Path]:
        return sorted(self.place.glob("*.sock"))

    def pid(self) -> int | None:
        """The agent serving this configuration (its socket's peer), or None."""
        return agent.peer_pid(agent.socket_path(self.place, agent.agent_key(self.env, str(PROJECT_ROOT))))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # a command's thread that ended meanwhile
            continue
    return found


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while agent.alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def agent_cli(console_url: str, gate_market_url: str) -> Iterator[AgentCli]:
    make_runtime(console_url, gate_market_url).close()  # migrated, demo users seeded
    place = Path(tempfile.mkdtemp(prefix="agent-", dir="/tmp"))  # short: a Unix socket path has ~107 bytes
    env = {**cli_env(console_url, gate_market_url), "CONSOLE_CLI_AGENT": "auto", "CONSOLE_CLI_AGENT_DIR": str(place),
           "CONSOLE_CLI_AGENT_IDLE_S": "60"}  # gone a minute after a test that could not stop it
    cli = AgentCli(env, place)
    yield cli
    for lock in place.glob("*.lock"):  # every agent that ever held a place here, started, starting or finishing
        with suppress(ValueError, ProcessLookupError):
            pid = int(lock.read_text().strip() or 0)
            if pid and agent.alive(pid):
                os.kill(pid, signal.SIGTERM)
                _gone(pid)
    shutil.rmtree(place, ignore_errors=True)


def _propose(cli: AgentCli, market_url: str, factor: float = 0.8) -> tuple[int, int, float]:
    kid, bid = keyword(market_url)
    new = round(bid * factor, 2)
    code, out, err = cli("ops", "propose", "--as", "seller@demo.local", "--site", "us", "--tool", "ads.update_bid",
                         "--args", json.dumps({"keyword_id": kid, "bid": new}), "--json")
    assert code == 0, err
    return json.loads(out)["operation_id"], kid, new


@pytest.mark.slow
def test_commands_through_the_agent_answer_as_in_process_and_write_once(agent_cli, gate_market_url) -> None:
    code, listed, _ = agent_cli("ops", "list", "--json")
    assert (code, json.loads(listed)) == (0, [])
    pid = agent_cli.pid()
    assert pid is not None and _children(pid) == []  # listing the queue starts no server

    op_id, kid, new = _propose(agent_cli, gate_market_url)
    code, out, _ = agent_cli("ops", "approve", str(op_id), "--as", "approver@demo.local", "--json")
    done = json.loads(out)
    assert code == 0 and (done["status"], done["decided_by"]) == ("succeeded", "approver@demo.local")
    assert market_value(gate_market_url, "SELECT bid FROM keywords WHERE id = :k", k=kid) == [(new,)]
    assert applied_writes(gate_market_url) == [(done["nonce"], "update_bid")]
    assert agent_cli.pid() == pid and len(_children(pid)) == 1  # the same agent, with the one server it needed

    code, out, err = agent_cli("ops", "approve", str(op_id), "--as", "approver2@demo.local", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "CONFLICT"
    assert err.startswith(f"CONFLICT: operation #{op_id} was already approved by approver@demo.local")
    code, out, err = agent_cli("ops", "approve", "abc", "--as", "approver@demo.local")  # argparse's own refusal
    assert code == 2 and "invalid int value: 'abc'" in err and out == ""

    in_process = agent_cli("ops", "show", str(op_id), "--json", CONSOLE_CLI_AGENT="off")
    assert agent_cli("ops", "show", str(op_id), "--json") == in_process
    assert applied_writes(gate_market_url) == [(done["nonce"], "update_bid")]


@pytest.mark.slow
def test_one_operation_approved_twice_at_once_through_the_agent_executes_once(agent_cli, gate_market_url) -> None:
    op_id, kid, new = _propose(agent_cli, gate_market_url)
    runs = [subprocess.Popen([sys.executable, "-m", "console", "ops", "approve", str(op_id), "--as", who, "--json"],
                             cwd=PROJECT_ROOT, env=agent_cli.env, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
            for who in ("approver@demo.local", "approver2@demo.local")]
    codes = sorted(run.wait(timeout=120) for run in runs)
    assert codes == [0, 2]
    assert len(applied_writes(gate_market_url)) == 1
    assert market_value(gate_market_url, "SELECT bid FROM keywords WHERE id = :k", k=kid) == [(new,)]


@pytest.mark.slow
def test_a_replaced_database_is_read_by_a_fresh_process(agent_cli, gate_market_url, console_url) -> None:
    """A restore (or a new seed) replaces the file under a running agent: its open handle would read the old one."""
    database = Path(console_url.removeprefix("sqlite:///"))
    backup = database.with_name("backup.db")
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(backup)) as target:
        source.backup(target)
    _propose(agent_cli, gate_market_url)
    first = agent_cli.pid()
    for journal in ("-wal", "-shm"):  # the restore: a new file with no operation in it, and no journal of the old
        database.with_name(database.name + journal).unlink(missing_ok=True)
    os.replace(backup, database)

    code, out, _ = agent_cli("ops", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    assert _gone(first)  # the stale agent left; the next command starts a fresh one
    agent_cli("ops", "list")
    assert agent_cli.pid() not in (None, first)


@pytest.mark.slow
def test_a_killed_agent_is_replaced_and_an_idle_one_leaves(agent_cli, gate_market_url) -> None:
    agent_cli("ops", "list")
    first = agent_cli.pid()
    os.kill(first, signal.SIGKILL)  # its socket file stays behind
    assert _gone(first) and agent_cli.sockets()
    op_id, _, _ = _propose(agent_cli, gate_market_url)
    second = agent_cli.pid()
    assert second not in (None, first)
    os.kill(second, signal.SIGTERM)
    assert _gone(second) and agent_cli.sockets() == []

    assert agent_cli("ops", "list", CONSOLE_CLI_AGENT_IDLE_S="1")[0] == 0  # a third agent, gone a second later
    log = next(agent_cli.place.glob("*.log"))
    deadline = time.monotonic() + 30
    while agent_cli.sockets() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert agent_cli.sockets() == [] and "leaving: 1 s without a command" in log.read_text()


@pytest.mark.slow
def test_a_malformed_request_is_refused_and_the_agent_serves_on(agent_cli) -> None:
    agent_cli("ops", "list")
    path = agent_cli.sockets()[0]
    for garbage in (b"not json\n", b'{"argv": ["setup", "--reset"]}\n', b'{"argv": "ops list"}\n', b"\n"):
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(path))
            conn.sendall(garbage)
            conn.settimeout(10)
            assert conn.recv(100) == b""  # closed without an answer
    assert agent_cli("ops", "list")[0] == 0


def test_a_directory_others_can_open_is_not_used(tmp_path) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o777)
    open_dir.chmod(0o777)
    assert agent.agent_dir({"CONSOLE_CLI_AGENT_DIR": str(open_dir)}) is None
    link = tmp_path / "link"
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    link.symlink_to(private)
    assert agent.agent_dir({"CONSOLE_CLI_AGENT_DIR": str(link)}) is None
    assert agent.agent_dir({"CONSOLE_CLI_AGENT_DIR": str(private)}) == private
    assert agent.agent_dir({"CONSOLE_CLI_AGENT_DIR": str(tmp_path / "new")}).stat().st_mode & 0o777 == 0o700


def test_each_configuration_has_its_own_agent() -> None:
    """What a command reads makes another agent; what only differs between two terminals does not."""
    base = {"CONSOLE_DATABASE_URL": "sqlite:///a.db", "PATH": "/bin", "HOME": "/root"}
    key = agent.agent_key(base, "/srv")
    same = {**base, "PWD": "/tmp", "OLDPWD": "/", "SHLVL": "3", "_": "/usr/bin/env", "SSH_TTY": "/dev/pts/1",
            "CONSOLE_CLI_AGENT_IDLE_S": "5", "CONSOLE_CLI_AGENT_DIR": "/run/x"}
    assert agent.agent_key(same, "/srv") == key
    for changed in ({"CONSOLE_DATABASE_URL": "sqlite:///b.db"}, {"console_database_url": "sqlite:///b.db"},
                    {"ANTHROPIC_API_KEY": "x"}, {"MARKET_TODAY": "2026-11-01"}, {"PATH": "/opt/bin:/bin"},
                    {"HOME": "/home/x"}, {"HTTPS_PROXY": "http://proxy:3128"}, {"LANG": "zh_CN.UTF-8"}):
        assert agent.agent_key({**base, **changed}, "/srv") != key, changed
    assert agent.agent_key(base, "/elsewhere") != key
    assert not agent.enabled({"CONSOLE_CLI_AGENT": "off"}) and agent.enabled({})


@pytest.mark.parametrize(("said", "expected"), [
    (b'{"accepted": true}\n{"out": "#7 [approved"}\n', agent.EXIT_LOST),  # lost after its first words
    (b'{"accepted": true}\n', agent.EXIT_LOST),  # lost before any output: it may have written all the same
    (b'{"accepted": true}\n{"out": "#7 [appr', agent.EXIT_LOST),  # a line cut off
    (b"", None),  # gone before taking the command: nothing ran, the caller runs it in its own process
    (b'{"stale": "the code"}\n', None),  # the agent predates a change: it ran nothing
    (b'{"out": "forged"}\n{"exit": 0}\n', None),  # an answer without "accepted" is not an answer
])
def test_an_agent_lost_mid_command_is_reported_and_never_retried(said, expected, capsys) -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(said)
    theirs.shutdown(socket.SHUT_WR)
    assert agent.relay(ours, ["ops", "approve", "7", "--as", "a@b.c"]) == expected
    if expected == agent.EXIT_LOST:
        assert "outcome is unknown" in capsys.readouterr().err


def test_the_watch_sees_a_replaced_database_and_a_changed_key_file(tmp_path) -> None:
    db, keyring = tmp_path / "console.db", tmp_path / "keyring.json"
    db.write_bytes(b"one")
    keyring.write_text("{}")
    settings = SimpleNamespace(database_url=f"sqlite:///{db}", market_database_url="postgresql://h/m",
                               keyring=str(keyring), mcp_servers='{"mcpServers": {}}')
    watch = Watch(settings)
    assert watch.changed() is None
    db.write_bytes(b"one, written in place")  # a database written in place is the same database
    assert watch.changed() is None
    keyring.write_text('{"keys": [1]}')
    assert watch.changed() == str(keyring)
    watch = Watch(settings)
    copy = tmp_path / "copy.db"
    copy.write_bytes(b"one")
    os.replace(copy, db)
    assert watch.changed() == str(db)


@pytest.mark.slow
def test_status_shows_the_agent_and_stop_ends_it(agent_cli) -> None:
    assert "no agent runs" in agent_cli("agent", "status")[1]
    agent_cli("ops", "list")
    pid = agent_cli.pid()
    code, out, _ = agent_cli("agent", "status")
    assert code == 0 and out.startswith("* ") and f"pid {pid}" in out
    assert agent_cli("agent", "stop")[1].strip() == "stopped 1 agent(s)"
    assert _gone(pid) and agent_cli.sockets() == []
    assert agent_cli("agent", "stop")[1].strip() == "no agent to stop"


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_gets_nothing_even_where_the_socket_is_open(agent_cli) -> None:
    agent_cli("ops", "list")
    path = agent_cli.sockets()[0]
    agent_cli.place.chmod(0o755)  # a careless set-up: only the agent's own check stands in the way
    path.chmod(0o666)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        try:
            os.setuid(65534)
            with socket.socket(socket.AF_UNIX) as conn:
                conn.connect(str(path))
                conn.settimeout(10)
                try:
                    conn.sendall(b'{"argv": ["ops", "list", "--json"]}\n')
                    os._exit(0 if conn.recv(100) == b"" else 1)
                except (BrokenPipeError, ConnectionResetError):  # closed before (or with) the request unread
                    os._exit(0)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "refused a connection from another user" in path.with_suffix(".log").read_text()
    assert agent_cli("ops", "list")[0] == 0


def test_commands_run_side_by_side_each_printing_to_its_own_client() -> None:
    """A long command (a chat turn with Claude) does not hold up another; neither sees the other's output."""
    import threading

    from console.cli_agent.server import Agent, Routed, Stream

    both = threading.Barrier(2, timeout=10)  # passes only if the two commands run at the same time

    def main(argv: list[str]) -> int:
        both.wait()
        print(f"answer to {argv[1]}")
        logging.getLogger("console.test").warning("warned %s", argv[1])
        print(f"problem of {argv[1]}", file=sys.stderr)
        return 3 if argv[1] == "b" else 0

    runner = Agent(Path("/nonexistent"), 60)
    runner.main = main
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Routed("out", sys.stdout), Routed("err", sys.stderr)
    pairs = {name: socket.socketpair() for name in ("a", "b")}
    codes: dict[str, int] = {}
    try:
        threads = [threading.Thread(target=lambda n=name: codes.__setitem__(
            n, runner.run(["ops", n], Stream(pairs[n][0], "out"), Stream(pairs[n][0], "err")))) for name in pairs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        sys.stdout, sys.stderr = saved
    assert codes == {"a": 0, "b": 3}
    for name, (ours, theirs) in pairs.items():
        ours.close()
        messages = [json.loads(line) for line in theirs.makefile("rb")]
        other = "b" if name == "a" else "a"
        assert {"out": f"answer to {name}"} in messages and {"err": f"problem of {name}"} in messages
        assert any("warned " + name in m.get("err", "") for m in messages)
        assert not any(f"{word} {other}" in text for m in messages for text in m.values()
                       for word in ("to", "of", "warned"))


@pytest.mark.slow
def test_a_command_through_the_agent_leaves_the_audit_chain_as_its_own_process_would(agent_cli, gate_market_url,
                                                                                      console_url) -> None:
    """Closing a runtime writes the reads' result rows and checkpoints the chain; the agent, which keeps its runtime,
    does both before it tells the client the command is done."""
    from tests.support.console_db import audit_anchor

    agent_cli("ops", "list")
    op_id, _, _ = _propose(agent_cli, gate_market_url)
    assert agent_cli("ops", "approve", str(op_id), "--as", "approver@demo.local")[0] == 0
    with closing(sqlite3.connect(console_url.removeprefix("sqlite:///"))) as db:
        newest = db.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        calls, results = db.execute("SELECT sum(event = 'tool_call'), sum(event = 'tool_result') FROM audit_log "
                                    "WHERE outcome IS NOT NULL").fetchone()
    anchor = Path(audit_anchor(console_url))
    anchor = anchor if anchor.is_file() else sorted(anchor.glob("*.jsonl"))[-1]
    assert json.loads(anchor.read_text().splitlines()[-1])["last_id"] == newest
    assert calls == results


def test_a_place_held_by_a_finishing_agent_sends_the_command_home_at_once(tmp_path) -> None:
    """Lock held, no socket: an agent finishing its last commands. The new one steps aside and the client runs the
    command itself within the grace, not after the whole start timeout."""
    import fcntl

    place = Path(tempfile.mkdtemp(prefix="agent-", dir="/tmp"))
    try:
        path = agent.socket_path(place, "k" * 20)
        held = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        assert agent.start(path) is None
        assert time.monotonic() - started < agent.START_TIMEOUT_S / 2
        os.close(held)
    finally:
        shutil.rmtree(place, ignore_errors=True)


def test_commands_of_one_agent_share_one_chat_service(runtime) -> None:
    """The agent lends one runtime to every command: their chat turns share one assistant (one Anthropic client with
    its open connections); another runtime has its own."""
    from dataclasses import replace

    from console.chat_service import shared_chat

    first = shared_chat(runtime)
    assert shared_chat(replace(runtime, owned=False)) is first and first.runtime.bridge is runtime.bridge
    class Bridge:  # any bridge; only its identity matters here
        pass

    other = SimpleNamespace(bridge=Bridge(), settings=runtime.settings, engine=runtime.engine)
    assert shared_chat(other) is not first
