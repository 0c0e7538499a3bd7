"""Files the user named: written without harming what is there, read without blocking.

The text goes to a new temporary file beside the target (O_EXCL, so a planted name or link is
never followed) and then replaces it. Only a regular file, or nothing, is replaced: a device
(/dev/null), a FIFO or a directory is refused rather than turned into a regular file, and a
symbolic link is kept, its target being the file that is written.
"""
from __future__ import annotations

import os
import stat
import tempfile


class NotARegularFile(OSError):
    """The path names something that is not a regular file."""


def write_file(path: str, text: str) -> None:
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise NotARegularFile(f"{path} is not a regular file: name a file, or redirect the output "
                              "(envdoctor report > FILE)")
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(tmp, stat.S_IMODE(mode))  # keep the replaced file's permissions
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def open_input(path: str):
    """Open a file the user named for reading, binary, without ever blocking in open(): a FIFO
    with no writer opens at once and reads as empty; a directory is refused (IsADirectoryError).
    Returns (file object, size or None when it is no regular file)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "Is a directory", path)
        os.set_blocking(fd, True)  # reads block again; a FIFO without a writer reads as end of file
        fh = os.fdopen(fd, "rb", buffering=64 << 10)
    except BaseException:
        os.close(fd)
        raise
    return fh, info.st_size if stat.S_ISREG(info.st_mode) else None
