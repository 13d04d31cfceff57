"""What a searcher typed, made safe for the full-text engines; what they send back, made safe
to show. Pure: no Django, no database.

User text never reaches FTS5's ``MATCH`` or PostgreSQL's ``to_tsquery`` as written: it is cut
into words (letters and digits, as SQLite's ``unicode61`` tokenizer cuts them), each word is
quoted, and the words are joined with AND. Quotes, ``*``, ``NEAR(``, ``AND``, ``-`` or an
unbalanced parenthesis are then just text (or nothing), never syntax.

Snippets come back from the engines with two private-use characters around each match
(``START``, ``STOP``; the index strips them from the text it stores). ``pieces`` turns such a
snippet into ``(text, is_match)`` pairs, which the HTML layer escapes piece by piece, so the
only markup in a snippet is the desk's own ``<mark>``.
"""

import re
import unicodedata

MAX_WORDS = 12  # a search is a few words; more only make the engines work harder
MAX_WORD = 64  # characters: no word is longer, and no prefix query that long is useful
PREFIX_FROM = 3  # words of this many characters or more also find longer words ("print*")

START, STOP = "\ue000", "\ue001"  # around a match in a snippet

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and punctuation separate words
_MARKS = re.compile(f"([{START}{STOP}])")


def words(text: str) -> list[str]:
    """The words of ``text``, in order, each once (case and accents are the engines' job)."""
    found: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text or "")):
        word = word[:MAX_WORD]
        if word.casefold() not in (w.casefold() for w in found):
            found.append(word)
        if len(found) == MAX_WORDS:
            break
    return found


def fts5_query(found: list[str], *, columns: tuple[str, ...] = ()) -> str:
    """An FTS5 query matching rows that hold every word (as a prefix when long enough),
    in ``columns`` only when given. ``found`` comes from ``words``: no quote in any word."""
    terms = " ".join(f'"{w}"*' if len(w) >= PREFIX_FROM else f'"{w}"' for w in found)
    if columns:
        return "{" + " ".join(columns) + "} : (" + terms + ")"
    return terms


def plain_text(found: list[str]) -> str:
    """The words for PostgreSQL's ``plainto_tsquery`` (which ANDs them)."""
    return " ".join(found)


def pieces(snippet: str) -> tuple[tuple[str, bool], ...]:
    """``snippet`` (text with ``START``/``STOP`` around matches) as (text, is_match) pairs."""
    result: list[tuple[str, bool]] = []
    inside = False
    for part in _MARKS.split(snippet or ""):
        if part == START:
            inside = True
        elif part == STOP:
            inside = False
        elif part:
            result.append((part, inside))
    return tuple(result)
