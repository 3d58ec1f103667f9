"""One asyncio loop on a background thread for all network work; results come back to Qt.

The engine, the API client and the progress sync run on this loop; the GUI thread never
blocks on the network. `submit` returns a `concurrent.futures.Future`; `then` delivers its
result (or exception) to a callback on the GUI thread through a queued Qt signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

T = TypeVar("T")


class AsyncRunner(QObject):
    _deliver = Signal(object)  # a zero-argument callable to run on the GUI thread

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="streamlab-net", daemon=True
        )
        self._thread.start()
        self._deliver.connect(lambda fn: fn(), Qt.ConnectionType.QueuedConnection)

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the network loop (engine methods must be called there)."""
        self.loop.call_soon_threadsafe(fn)

    def in_gui(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the GUI thread; safe to call from any thread."""
        self._deliver.emit(fn)

    def then(
        self,
        future: Future[T],
        on_result: Callable[[T], object],
        on_error: Callable[[BaseException], object] | None = None,
    ) -> None:
        def done(f: Future[T]) -> None:
            if f.cancelled():
                return
            error = f.exception()
            if error is None:
                result = f.result()
                self.in_gui(lambda: on_result(result))
            elif on_error is not None:
                self.in_gui(lambda: on_error(error))

        future.add_done_callback(done)

    def close(self, timeout_s: float = 5.0) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_running():
            with contextlib.suppress(TimeoutError):
                self.submit(cancel_all()).result(timeout_s)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout_s)
