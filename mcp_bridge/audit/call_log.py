"""The audit rows of tool calls: a read's request before its answer is released, its result right after.

A read gets two rows. The request row (`tool_call`: who, which tool, the arguments) is written while the
server works, and the answer waits for it: no row, no answer. The result row (`tool_result`: outcome,
duration, result size, and the request row's id) is queued, then written by a background flush at most
`FLUSH_AFTER_S` later (one transaction for all that queued up), in the same transaction as the process's
next row written with `append`, and when the bridge closes. Only a crash in that short window can lose a
result row; its request row is already durable.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable

from mcp_bridge.audit.log import AuditLog
from mcp_bridge.audit.rows import Appended, Entry

log = logging.getLogger(__name__)
FLUSH_AFTER_S = 0.05  # a busy bridge's results go in one transaction per 50 ms; a person never sees the delay
RETRY_MAX_S = 5.0  # a failing flush backs off up to this; the rows stay queued until one succeeds

Later = Callable[[], Entry]  # a row built only when it is written, off the caller's path


class CallLog:
    """Appends through `audit`: rows now, and result rows later (flushed, or carried by the next `append`)."""

    def __init__(self, audit: AuditLog, *, flush_after_s: float = FLUSH_AFTER_S) -> None:
        self.audit = audit
        self._flush_after_s = flush_after_s
        self._queued: list[Later] = []
        self._lock = threading.Lock()
        self._queued_event = threading.Event()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def append(self, row: Entry) -> Appended:
        """Write `row` now, after the queued result rows (one transaction); raises when it could not be written."""
        later = self._take()
        try:
            written = self.audit.append_entries([*(make() for make in later), row])
        except BaseException:
            self._give_back(later)
            raise
        return written[-1]

    def try_append(self, row: Entry) -> Appended | None:
        """Write `row` alone if that needs no waiting (SQLite; for the pool's loop thread), else None: then `append`.

        The queued results stay queued: work on the loop while a server works slows that server by about half
        its duration (the machine's CPUs are shared), so it is kept to the one row the answer waits for.
        """
        written = self.audit.try_append_entries([row])
        return None if written is None else written[-1]

    def later(self, make: Later) -> None:
        """Queue a row; it is written with the next `append`, or by the flusher soon after."""
        with self._lock:
            self._queued.append(make)
            closed = self._stop.is_set()
            if self._flusher is None and not closed:
                self._flusher = threading.Thread(target=self._flush_loop, name="audit-call-log", daemon=True)
                self._flusher.start()
                atexit.register(self.close)
        self._queued_event.set()
        if closed:  # no flusher any more: write it now
            try:
                self.flush()
            except Exception:
                log.exception("audit: %d result rows could not be written", self.queued)

    @property
    def queued(self) -> int:
        return len(self._queued)

    def flush(self) -> int:
        """Write every queued row now; returns how many (they stay queued when this raises)."""
        later = self._take()
        if later:
            try:
                self.audit.append_entries([make() for make in later])
            except BaseException:
                self._give_back(later)
                raise
        return len(later)

    def close(self) -> None:
        """Stop the flusher and write what is still queued; idempotent."""
        self._stop.set()
        self._queued_event.set()
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            atexit.unregister(self.close)
            flusher.join(timeout=10)
        try:
            self.flush()
        except Exception:
            log.exception("audit: %d result rows could not be written at shutdown", self.queued)

    def _take(self) -> list[Later]:
        with self._lock:
            later, self._queued = self._queued, []
            self._queued_event.clear()
        return later

    def _give_back(self, later: list[Later]) -> None:
        if later:
            with self._lock:
                self._queued[:0] = later
            self._queued_event.set()

    def _flush_loop(self) -> None:
        delay = self._flush_after_s
        while not self._stop.is_set():
            self._queued_event.wait()
            if self._stop.wait(delay):  # close() writes what is left
                return
            try:
                self.flush()
                delay = self._flush_after_s
            except Exception as exc:
                log.error("audit: %d result rows not written yet (%s); retrying in %.1f s", self.queued, exc, delay)
                delay = min(delay * 2, RETRY_MAX_S)
