"""Reading a file that a person or a stored row names: a regular file of bounded size, or one clear refusal.

A path can name a device (/dev/zero reads forever), a pipe (opening it waits for a writer) or a file far larger
than anything this project writes; each is refused before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them. A folder is IsADirectoryError (as `open`
    says); a device, a pipe or a larger file (one that grows while read included) is a ValueError saying which."""
    mode = os.stat(path).st_mode  # before open: opening a pipe would block
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(mode):
        raise ValueError("not a regular file (a device or a pipe)")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit / 2**20:g} MiB")
    return data
