"""What a user types becomes words, never query syntax; snippets become escaped pieces."""

import pytest

from servicedesk.search import terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("printer broken", ["printer", "broken"]),
        ('"unbalanced', ["unbalanced"]),
        ("NEAR(a b", ["NEAR", "a", "b"]),
        ("-foo AND bar*", ["foo", "AND", "bar"]),
        ("subject:secret {notes} : x", ["subject", "secret", "notes", "x"]),
        ("tâche Påske", ["tâche", "Påske"]),
        ("ta\u0302che", ["tâche"]),  # decomposed accents are composed first
        ("snake_case", ["snake", "case"]),
        ("Word word WORD", ["Word"]),
        ("*()^:\"'", []),
        ("", []),
    ],
)
def test_words_are_letters_and_digits_only(text, expected):
    assert terms.words(text) == expected


def test_words_are_bounded_in_number_and_length():
    found = terms.words(" ".join(f"w{n}" for n in range(50)) + " " + "x" * 5000)

    assert len(found) == terms.MAX_WORDS
    assert all(len(w) <= terms.MAX_WORD for w in terms.words("y" * 5000))


def test_the_fts5_query_quotes_every_word_and_prefixes_the_long_ones():
    assert terms.fts5_query(["AND", "ab", "printer"]) == '"AND"* "ab" "printer"*'
    assert terms.fts5_query(["x"], columns=("subject", "body")) == '{subject body} : ("x")'


def test_pieces_split_a_snippet_at_its_marks():
    snippet = f"a <b> {terms.START}tâche{terms.STOP} & c{terms.START}d{terms.STOP}"

    assert terms.pieces(snippet) == (
        ("a <b> ", False),
        ("tâche", True),
        (" & c", False),
        ("d", True),
    )
    assert terms.pieces("") == ()
