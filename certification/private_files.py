"""Files that hold personal data are readable by the service's own user only (DESIGN §7).

Rosters, errors files, exports and the SMS log are created 0600 inside 0700 folders,
whatever the process umask: `open()` would create them 0644 under the usual 022.
An existing file is narrowed to 0600 too (files written before this change).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """mkdir -p with 0700 for the folders it creates (existing ones are left as they are)."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def open_private(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """open() for writing ("w", "a", "wb", "ab"), with the file created or narrowed to 0600."""
    if not set(mode) <= set("wab+") or not ({"w", "a"} & set(mode)):
        raise ValueError(f"open_private is for writing, not {mode!r}")
    flags = os.O_CREAT | (os.O_RDWR if "+" in mode else os.O_WRONLY)
    flags |= os.O_APPEND if "a" in mode else os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise
