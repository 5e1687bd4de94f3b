"""Files graphsvc keeps in ``GRAPHSVC_DATA_DIR``, readable by their owner only.

The embedded store holds every household's name, phone and address unmasked, and the key
database the keys' hashes: nobody but the service's own user has any business reading
them. A data folder graphsvc makes is ``700``, its files ``600``; a file found with a
looser mode (made by an older version, or copied in) is tightened when it is opened, and
that is logged. A folder graphsvc did not make is left as it is: it may be shared with
other things (``GRAPHSVC_DATA_DIR=.``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Make the folder (and its parents) if it is missing; the folder itself ``700``."""
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create the file empty with mode ``600`` if it is missing; tighten it (and log it) if
    others may read or write it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        return
    except FileExistsError:
        pass
    tighten(path)


def tighten(path: Path) -> None:
    """Take away every permission of group and others from an existing file, and log it."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(mode & 0o700)
        log.warning("%s was readable by others (mode %03o); it holds personal data or keys, so "
                    "graphsvc made it readable by its owner only (mode %03o)",
                    path, mode, mode & 0o700)
