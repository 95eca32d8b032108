"""When the audit log writes checkpoints to its anchor: every N rows, every minute while the chain moves, at close."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable
from functools import partial

from mcp_bridge.audit.anchor import AnchorStore, Checkpoint, checkpoint
from mcp_bridge.audit.key import AuditKey

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 100  # rows
CHECKPOINT_INTERVAL_S = 60.0

Head = tuple[int, str]  # a row id and its MAC


class Checkpointer:
    """Writes this process's checkpoints from a daemon thread, so an append never waits on the anchor.

    What it checkpoints is the newer of the rows this process appended (known committed) and the database's
    head, if that head row carries a valid MAC. A head that moved back behind rows this process wrote is a cut
    tail: the checkpoint then records what this process wrote, so `audit verify` reports the cut.
    """

    def __init__(self, key: AuditKey, anchor: AnchorStore, database_head: Callable[[], Head | None], *,
                 every: int = CHECKPOINT_EVERY, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        if every < 1:
            raise ValueError("checkpoints are written every 1 or more rows")
        self.key, self.anchor, self.every, self.interval_s = key, anchor, every, interval_s
        self._database_head = database_head
        self._appended: Head = (0, "")  # the newest row this process appended and saw committed
        self._written = 0  # the last id of this process's newest checkpoint
        self._lock = threading.Lock()  # guards _appended and the thread's start
        self._writing = threading.Lock()  # one checkpoint at a time (the thread, close, checkpoint_now)
        self._due = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0  # the process the thread runs in (a forked child starts its own)
        self._at_exit = partial(_close_if_alive, weakref.ref(self))  # a log nobody closed: its final checkpoint

    def appended(self, first_id: int, last_id: int, last_hash: str) -> None:
        """Rows `first_id`..`last_id` were committed; a checkpoint is due when they crossed a multiple of N."""
        with self._lock:
            if last_id > self._appended[0]:
                self._appended = (last_id, last_hash)
            self._start()
        if (first_id - 1) // self.every != last_id // self.every:
            if self._stop.is_set():  # closed: no thread any more
                self.checkpoint_now()
            else:
                self._due.set()

    def checkpoint_now(self) -> Checkpoint | None:
        """Write a checkpoint if the chain moved since this process's last one; None when none was written."""
        with self._writing:
            try:
                head = self._head()
                if head is None or head[0] <= self._written:
                    return None
                written = checkpoint(head[0], head[1], self.key)
                self.anchor.append(written.signed(self.key))
            except Exception:  # the rows are safe in the database; the next checkpoint covers them
                log.exception("audit: a checkpoint could not be written to %s; the next one covers its rows",
                              self.anchor.location)
                return None
            self._written = written.last_id
            return written

    def close(self) -> None:
        """Stop the thread and write a final checkpoint (if the chain moved); idempotent."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        self._due.set()
        if thread is not None:
            atexit.unregister(self._at_exit)
            thread.join(timeout=10)
        if self._appended[0] or self._written:  # this process took part in the chain
            self.checkpoint_now()

    def _head(self) -> Head | None:
        appended = self._appended
        database = self._database_head()
        if database is not None and database[0] < appended[0]:
            log.error("audit: the chain's head is row %d, but this process appended up to row %d: rows were cut "
                      "from the end (run `python -m console audit verify`)", database[0], appended[0])
        if database is not None and database[0] >= appended[0]:
            return database
        return appended if appended[0] else None

    def _start(self) -> None:
        if (self._thread is None or self._pid != os.getpid()) and not self._stop.is_set():
            self._pid = os.getpid()
            # The thread holds the checkpointer weakly: a log dropped without close() lets its thread end.
            self._thread = threading.Thread(target=_run, args=(weakref.ref(self), self._due, self._stop, self.interval_s),
                                            name="audit-checkpoints", daemon=True)
            self._thread.start()
            atexit.register(self._at_exit)


def _run(ref: weakref.ref[Checkpointer], due: threading.Event, stop: threading.Event, interval_s: float) -> None:
    while not stop.is_set():
        due.wait(interval_s)
        due.clear()
        checkpointer = ref()
        if stop.is_set() or checkpointer is None:
            return  # close() writes the final one
        checkpointer.checkpoint_now()
        del checkpointer


def _close_if_alive(ref: weakref.ref[Checkpointer]) -> None:
    checkpointer = ref()
    if checkpointer is not None:
        checkpointer.close()
