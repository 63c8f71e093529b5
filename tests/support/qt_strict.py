"""A pytest plugin: a Qt warning or critical message fails the test that caused it.

As qutebrowser does: every test gets pytest-qt's ``qt_log_level_fail("WARNING")`` marker, so a
``QtWarningMsg`` or ``QtCriticalMsg`` (a broken signal connection, a painter misuse, a platform
plugin complaint under xcb) is a failure rather than a line nobody reads. A test that expects
one says so with ``@pytest.mark.qt_log_ignore("pattern")``. Messages that are the platform's,
not the app's, are listed in ``IGNORED``.
"""

from __future__ import annotations

import pytest

# The platform's messages, not ours (each with the reason it is harmless).
IGNORED: tuple[str, ...] = (
    # The offscreen platform cannot do what a window manager does; xcb can.
    r"^This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fail every test on a Qt warning, unless it sets its own level."""
    for item in items:
        if item.get_closest_marker("qt_log_level_fail") is None:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
        own = [a for m in item.iter_markers("qt_log_ignore") for a in m.args]
        item.add_marker(pytest.mark.qt_log_ignore(*IGNORED, *own), append=False)
