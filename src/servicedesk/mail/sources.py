"""Where raw messages come from on disk: one file, an mbox, a Maildir or a folder. Pure.

Each message is yielded as (label, bytes) in a stable order: a folder in file-name order, a
Maildir in delivery order (its file names start with the delivery time), an mbox in file order.
"""

import mailbox
import re
from collections.abc import Iterator
from pathlib import Path

MBOX_SEPARATOR = re.compile(rb"(\A|\r?\n\r?\n)From [^\r\n]*\r?\n")
MAILDIR_TIME = re.compile(r"^(\d+)(?:\.(?:M(\d+))?)?")


def messages_at(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            yield from _maildir(path)
        else:
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                if not child.name.startswith("."):
                    yield from _file(child)
        return
    yield from _file(path)


def _file(path: Path) -> Iterator[tuple[str, bytes]]:
    data = path.read_bytes()
    if _is_mbox(data):
        box = mailbox.mbox(path, create=False)
        try:
            for index, key in enumerate(box.iterkeys()):
                yield f"{path}#{index + 1}", box.get_bytes(key)
        finally:
            box.close()
    else:
        yield str(path), data


def _is_mbox(data: bytes) -> bool:
    """An mbox holds several messages, each after a ``From `` line that follows a blank line.
    A single message saved with its ``From `` line is read as one message, not split on a
    body line that happens to start with "From "."""
    return data.startswith(b"From ") and len(MBOX_SEPARATOR.findall(data, 1)) >= 1


def _maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    files = [f for sub in ("new", "cur") for f in (path / sub).iterdir() if f.is_file()]
    for file in sorted(files, key=_delivery_order):
        yield str(file), file.read_bytes()


def _delivery_order(file: Path) -> tuple[int, int, str]:
    match = MAILDIR_TIME.match(file.name)
    if not match:
        return (0, 0, file.name)
    return (int(match[1]), int(match[2] or 0), file.name)
