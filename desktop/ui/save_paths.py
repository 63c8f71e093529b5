"""Where a Save dialog starts: the person's Documents folder (else their home folder), never
the folder the app happened to be started from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def suggested_path(file_name: str) -> str:
    """``file_name`` in the Documents folder when there is one, else in the home folder."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(documents) if documents and Path(documents).is_dir() else Path.home()
    return str(folder / file_name)
