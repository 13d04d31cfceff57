"""Ticket references as people write them, and as the desk writes them (pure: no Django).

The desk writes a ticket as ``SD-10042`` and ties an email to it with ``[SD#10042]`` in the
subject; ``SD`` is the configured prefix (``SERVICEDESK_TICKET_PREFIX``), passed in by the
caller. People write a reference back in any of these forms, surrounding whitespace allowed,
the prefix in any case:

    SD-10042   SD#10042   [SD#10042]   [SD-10042]   #10042   10042

Anything else names no ticket: another prefix, a sign, a zero, other characters, or more than
18 digits (a number no database column holds; 18 digits always fit in a signed 64-bit one).
Leading zeros are allowed (``SD-042`` is 42). Digits are ASCII only: ``int()`` would accept
other scripts' digits, which nobody types as a ticket number.
"""

import re
from functools import lru_cache

MAX_DIGITS = 18


@lru_cache(maxsize=16)
def _patterns(prefix: str) -> tuple[re.Pattern, re.Pattern]:
    if not prefix or any(c in "[]#" or c.isspace() for c in prefix):
        raise ValueError(f"Not a ticket prefix: {prefix!r} (letters, digits or dashes).")
    p = re.escape(prefix)
    digits = rf"([0-9]{{1,{MAX_DIGITS}}})"
    whole = re.compile(
        rf"(?:{p}[-#]{digits}|\[{p}[-#]{digits}\]|\#?{digits})",
        re.IGNORECASE,
    )
    # In a subject the token may touch other text; a longer digit run is no token.
    token = re.compile(rf"\[{p}#([0-9]+)\]", re.IGNORECASE)
    return whole, token


def parse_reference(text: str, prefix: str) -> int | None:
    """The ticket number in ``text``, one reference in any form above; None if it is none."""
    if not isinstance(text, str):
        return None
    match = _patterns(prefix)[0].fullmatch(text.strip())
    if match is None:
        return None
    number = int(next(group for group in match.groups() if group is not None))
    return number or None


def find_subject_token(subject: str, prefix: str) -> int | None:
    """The number of the first ``[SD#10042]`` token in an email ``subject``; None if none."""
    for match in _patterns(prefix)[1].finditer(subject or ""):
        digits = match[1]
        if len(digits) <= MAX_DIGITS and int(digits):
            return int(digits)
    return None


def format_reference(number: int, prefix: str) -> str:
    """``SD-10042``: how every page, email, command and API answer names a ticket."""
    _patterns(prefix)
    return f"{prefix}-{number}"


def format_subject_token(number: int, prefix: str) -> str:
    """``[SD#10042]``: the token that ties an email's subject to the ticket."""
    _patterns(prefix)
    return f"[{prefix}#{number}]"
