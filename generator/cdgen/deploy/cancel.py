"""Cancellation: SIGINT and SIGTERM become one ``Cancelled`` exception in the main thread.

A runner cancelling a job sends SIGINT, then SIGTERM a few seconds later, then SIGKILL.
Only the first signal is raised: the undo it starts must not be cut short by the next one.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancelled(BaseException):
    """Like KeyboardInterrupt, not an Exception: ``except Exception`` does not swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal_name(self.signum)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class SignalGuard:
    """Raise Cancelled on the first SIGINT/SIGTERM while armed; record, never raise, after."""

    def __init__(self) -> None:
        self.received = 0
        self.armed = True
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        first = not self.received
        self.received = self.received or signum
        if first and self.armed:
            raise Cancelled(signum)

    def install(self) -> SignalGuard:
        try:
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        except ValueError:  # not the main thread: signals cannot be handled here
            pass
        return self

    def hold(self) -> None:
        """From now on only record signals: the run is over and is being reported."""
        self.armed = False

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            if handler is not None:  # None: a handler not installed from Python
                signal.signal(signum, handler)
