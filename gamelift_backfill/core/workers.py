"""A small thread pool on daemon threads, for GameLift calls that a deadline bounds.

botocore bounds a call only by its read timeout times its attempts: minutes against an
endpoint that stops answering. The drain and stop-and-wait promise to end by their
deadline, so every call they wait for runs on a worker and is waited for with the time
left (``Future.result(timeout=...)``); a call still hanging then is abandoned. The standard
ThreadPoolExecutor joins its (non-daemon) workers at interpreter exit, so an abandoned call
would keep ``python -m providers`` alive for minutes after it reported the error; these
workers are daemon threads and do not.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")
_Work = tuple["Future[Any]", Callable[[], Any]]


class DaemonPool:
    """Runs calls on at most ``workers`` daemon threads, started as work arrives."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = max(1, workers)
        self._name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(*args)``; its Future holds the result or the exception."""
        future: Future[T] = Future()
        self._queue.put((future, partial(fn, *args)))
        if len(self._threads) < self._workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return future

    def shutdown(self) -> None:
        """Cancel queued calls and end idle workers; running calls finish in the background."""
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work[0].cancel()
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while (work := self._queue.get()) is not None:
            future, call = work
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)
