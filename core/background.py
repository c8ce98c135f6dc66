"""A polling daemon thread: the shape shared by the process's background runners."""

from __future__ import annotations

import threading


class PollingThread:
    """Works in a daemon thread, sleeping between rounds until woken or until the poll interval passes.
    Subclasses implement _work and call _sleep; start() is idempotent."""

    thread_name = "worker"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
            self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _work(self) -> None:
        raise NotImplementedError
