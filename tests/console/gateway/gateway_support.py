"""A gateway on a free loopback port in this process, over a runtime whose bridge runs the three bundled servers."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from mcp import Client

from console.gateway.app import Gateway
from console.gateway.groups import ToolGroups
from console.gateway.keys import ApiKeys
from console.runtime import Runtime
from tests.support.console_db import make_runtime
from tests.support.market import sqlite_url
from tests.support.service_http import http_transport

ADMIN = "admin@demo.local"
SERVERS = ("ads", "commerce", "analytics")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gateway_runtime(home: Path, market_template: Path) -> Iterator[Runtime]:
    shutil.copy(market_template, home / "market.db")
    rt = make_runtime(f"sqlite:///{home / 'console.db'}", sqlite_url(home / "market.db"), SERVERS)
    rt.bridge.start()
    try:
        yield rt
    finally:
        rt.close()


@contextmanager
def serving(gateway: Gateway, port: int | None = None) -> Iterator[str]:
    """Serve `gateway` with uvicorn in a thread; yields its base URL."""
    port = port or int(gateway.base_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(gateway, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def client(url: str, key: str | None = None, headers: Mapping[str, str] | None = None) -> Client:
    sent = {**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})}
    return Client(http_transport(url, sent))


def make_group(rt: Runtime, code: str, tools: list[str], sites: list[str], *, writes: bool = False) -> str:
    known = {spec.name: spec.is_write for spec in rt.bridge.catalog.specs()}
    ToolGroups(rt.engine, rt.bridge.audit).create(code, tools=tools, sites=sites, writes=writes, actor=ADMIN,
                                                 known=known)
    return ApiKeys(rt.engine, rt.bridge.audit).create(code, label=f"{code}-key", actor=ADMIN).secret


def unwrap(error: BaseException) -> BaseException:
    """The SDK's task groups wrap a refusal; the one error inside."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def audit_rows(rt: Runtime, **filters: Any) -> list[Any]:
    rt.bridge.calls.flush()  # a read's result row is written just after its answer
    return [r for r in rt.bridge.audit.query(limit=5000, **filters) if r.channel == "gateway"]
