"""Time-log hooks: one work session per opened pair, fed by keyboard and mouse activity."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QWidget

from desktop.labor.timelog import TimeLog, WorkSession
from desktop.merge_states import Outcome, Step

INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.Wheel,
        QEvent.Type.MouseButtonDblClick,
    }
)


SETTLE_MS = 400  # a pair shown this long counts as opened (skimming with J/K does not)


class ReviewTimer(QObject):
    """Times the work on the pair that is open; install it as an application event filter.

    A pair counts as opened once it has been shown for :data:`SETTLE_MS` (its session then
    starts at the moment it was shown), or at once when the person acts on it. This keeps
    skimming through the queue free of time-log writes.
    """

    def __init__(
        self,
        log: TimeLog,
        parent: QObject | None = None,
        on_pair: Callable[[QWidget], bool] = lambda widget: True,
    ) -> None:
        """``on_pair``: whether input in this widget is work on the open pair (the queue and
        the merge window are; the report or the settings are not)."""
        super().__init__(parent)
        self.log = log
        self.on_pair = on_pair
        self.current: WorkSession | None = None
        self.touched = False  # a key or click on the pair's windows since it was shown
        self._elsewhere = False  # another window (the report, the settings) is active
        self._ids: tuple[str, ...] = ()
        self._pending: tuple[tuple[str, ...], float] | None = None
        self._closed = False
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.settle)

    @property
    def opened(self) -> bool:
        """True once the pair shown counts as opened (shown for :data:`SETTLE_MS`, or acted
        on): the person may be reading it."""
        return self.current is not None and not self.current.finished

    def show_pair(self, ids: Sequence[str] | None) -> None:
        """A pair is shown (None: nothing); its session starts once it settles."""
        if self._closed:
            return
        key = tuple(sorted(str(i) for i in ids or ()))
        if self.current is not None and not self.current.finished and key == self._ids:
            self._pending = None
            return
        self.finish(Outcome.SKIPPED)
        self.touched = False
        self._pending = (key, time.time()) if key else None
        if key:
            self._settle.start()

    @Slot()
    def settle(self) -> WorkSession | None:
        """Start the session of the pair shown (at the moment it was shown)."""
        self._settle.stop()
        if self._pending is None:
            return self.current
        key, shown_at = self._pending
        self._pending = None
        self._ids = key
        self.current = self.log.start(list(key), step=Step.COMPARE, t=shown_at)
        return self.current

    def open_pair(self, ids: Sequence[str], step: str = Step.COMPARE) -> WorkSession:
        """Time a pair from now on (or since it was shown); returns its session."""
        key = tuple(sorted(str(i) for i in ids))
        if self._pending is not None and self._pending[0] == key:
            session = self.settle()
            assert session is not None
            return session
        if self.current is not None and not self.current.finished and key == self._ids:
            return self.current
        self.finish(Outcome.SKIPPED)
        self._ids = key
        self.current = self.log.start(list(key), step=step)
        return self.current

    def finish(self, outcome: str) -> WorkSession | None:
        """End the open session with ``outcome``; returns it (None when none was open)."""
        self._settle.stop()
        self._pending = None
        ended = None
        if self.current is not None and not self.current.finished:
            self.current.finish(outcome)
            ended = self.current
        self.current = None
        self._ids = ()
        return ended

    def close(self) -> None:
        """End the open session and time nothing more: the window is closing, and a pair a
        late queue refresh shows must not start a session on a cache about to close."""
        self.finish(Outcome.SKIPPED)
        self._closed = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Count key presses, clicks and wheel turns on the pair's windows as activity on the
        open pair; those in another window (the report, the settings) are not its work."""
        current = self.current
        if event.type() == QEvent.Type.WindowActivate and isinstance(watched, QWidget):
            # Time in another window is not the pair's, even with nothing pressed there: the
            # clock moves on when one opens and again when the pair's window comes back.
            on_pair = self.on_pair(watched)
            if current is not None and not current.finished and (self._elsewhere or not on_pair):
                current.away_at()
            self._elsewhere = not on_pair
        if event.type() in INPUT_EVENTS and isinstance(watched, QWidget):  # not its QWindow
            on_pair = self.on_pair(watched)
            self.touched |= on_pair
            if current is not None and not current.finished:
                if on_pair:
                    current.input_at()
                else:
                    current.away_at()
        return False
