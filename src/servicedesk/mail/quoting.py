"""Fold the quoted earlier messages and the signature out of a reply. Pure.

Nothing is deleted: ``split_reply`` returns what the sender wrote now and the folded rest,
which the desk keeps and shows collapsed. The patterns cover the attribution lines and
header blocks of the common clients (Outlook, Gmail, Apple Mail, Thunderbird, Lotus Notes)
in English, French and Norwegian, and German as it comes up in practice.
"""

import re
from dataclasses import dataclass

ATTRIBUTION = re.compile(
    r"^\s*(On|Le|Den|På|Am|El|Op)\b.{0,300}?\b(wrote|a écrit|skrev|schrieb|escribió|schreef)\b"
    r".{0,200}:\s*$",
    re.IGNORECASE,
)
# "man. 23. nov. 2026 kl. 10:00 skrev Ola Nordmann <ola@example.no>:" (Gmail in Norwegian)
DATED_ATTRIBUTION = re.compile(
    r"^\s*.{0,80}\d{1,2}[:.]\d{2}.{0,200}\b(wrote|a écrit|skrev|schrieb)\s*:\s*$", re.IGNORECASE
)
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(Original Message|Message d'origine|Message d’origine|Opprinnelig melding|"
    r"Originalmelding|Ursprüngliche Nachricht|Forwarded message|Message transféré|"
    r"Videresendt melding)\s*-{2,}\s*$",
    re.IGNORECASE,
)
HEADER_FROM = re.compile(r"^\s*\*?(From|De|Fra|Von|Från)\s*\*?\s*:", re.IGNORECASE)
HEADER_DATE = re.compile(
    r"^\s*\*?(Sent|Date|Envoyé|Sendt|Dato|Gesendet|Datum)\s*\*?\s*:", re.IGNORECASE
)
OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")
SIGNATURE = re.compile(r"^-- ?$")
SENT_FROM = re.compile(
    r"^\s*(Sent from my|Envoyé de mon|Sendt fra min|Sendt fra|Von meinem|Get Outlook for)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reply:
    new: str
    folded: str


def split_reply(text: str) -> Reply:
    """What is new in ``text`` and what is folded away (quotes, signature)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    top = _leading_quote(lines)
    rest = lines[top:]
    cut = _first_fold(rest)
    new = "\n".join(rest[:cut]).strip()
    if not new:  # all quoted: show it all rather than nothing
        return Reply(new=text.strip(), folded="")
    above, below = "\n".join(lines[:top]).strip(), "\n".join(rest[cut:]).strip()
    return Reply(new=new, folded="\n\n".join(part for part in (above, below) if part))


def _leading_quote(lines: list[str]) -> int:
    """Where the answer starts below a quote that opens the message (bottom-posting)."""
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    introduces_quote = (
        index + 1 < len(lines)
        and lines[index].rstrip().endswith(":")
        and lines[index + 1].lstrip().startswith(">")
    )
    if introduces_quote:  # "On … wrote:", "Ann wrote:", "Le … a écrit :"
        index += 1
    start = index
    while index < len(lines) and (
        lines[index].lstrip().startswith(">") or not lines[index].strip()
    ):
        index += 1
    quoted = any(line.lstrip().startswith(">") for line in lines[start:index])
    return index if quoted and index < len(lines) else 0


def _first_fold(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _starts_fold(lines, index):
            # An attribution wrapped over two lines ("On Mon, … Ann <ann@x>\nwrote:").
            if index and ATTRIBUTION.match(lines[index - 1] + " " + line) and lines[index - 1]:
                return index - 1
            return index
    return _trailing_quote(lines)


def _starts_fold(lines: list[str], index: int) -> bool:
    line = lines[index]
    if SIGNATURE.match(line) or SENT_FROM.match(line) or ORIGINAL_MESSAGE.match(line):
        return True
    if ATTRIBUTION.match(line) or DATED_ATTRIBUTION.match(line):
        return True
    if index + 1 < len(lines) and ATTRIBUTION.match(line + " " + lines[index + 1]):
        return bool(line.strip())
    if OUTLOOK_RULE.match(line):
        return any(HEADER_FROM.match(n) for n in lines[index + 1 : index + 3])
    if HEADER_FROM.match(line):
        # A forwarded/quoted header block: a date line follows within a few lines.
        following = [n for n in lines[index + 1 : index + 9] if n.strip()][:4]
        return any(HEADER_DATE.match(n) for n in following)
    return False


def _trailing_quote(lines: list[str]) -> int:
    """Where a block of ``>`` lines starts that runs (blank lines aside) to the end."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start == end or not any(line.lstrip().startswith(">") for line in lines[start:end]):
        return len(lines)
    if start and lines[start - 1].rstrip().endswith(":"):
        start -= 1  # the line that introduces the quote
    return start
