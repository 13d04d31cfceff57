"""Ticket references (pure): every form people write, every form that names no ticket, and
formatting round-trips for any number and any prefix."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.tickets.references import (
    find_subject_token,
    format_reference,
    format_subject_token,
    parse_reference,
)

# (what someone wrote, the number it names under the prefix "SD")
NAMES_A_TICKET = [
    ("SD-10042", 10042),
    ("sd-10042", 10042),
    ("Sd-10042", 10042),
    ("10042", 10042),
    ("#10042", 10042),
    ("[SD#10042]", 10042),
    ("[sd#10042]", 10042),
    ("SD#10042", 10042),
    ("[SD-10042]", 10042),
    ("  SD-10042\n", 10042),
    ("\t[SD#10042] ", 10042),
    ("1", 1),
    ("SD-1", 1),
    ("SD-0042", 42),
    ("007", 7),
    ("9" * 18, 10**18 - 1),
    ("SD-" + "9" * 18, 10**18 - 1),
]

NAMES_NO_TICKET = [
    "",
    " ",
    "SD",
    "SD-",
    "#",
    "[SD#]",
    "HD-10042",  # another desk's prefix
    "XX-1",
    "[HD#10042]",
    "SD-abc",
    "abc",
    "10042abc",
    "SD-10042x",
    "SD 10042",  # no separator
    "SD10042",
    "SD--10042",
    "SD-#10042",
    "[10042]",
    "[#10042]",
    "[SD#10042",  # unbalanced
    "SD#10042]",
    "[SD#10042]]",
    "[SD#10042] [SD#10043]",
    "+10042",
    "-10042",
    "SD-+10042",
    "SD--1",
    "0",
    "SD-0",
    "#0",
    "[SD#000]",
    "1" * 19,  # more digits than any column holds
    "SD-" + "1" * 19,
    "1 2",
    "1_000",
    "10042.0",
    "0x10",
    "١٢٣",  # Arabic-Indic digits: int() takes them, people do not write tickets so
    "²",
    "SD-10042 please",
    "Re: SD-10042",
]


@pytest.mark.parametrize(("text", "number"), NAMES_A_TICKET)
def test_the_forms_people_write(text, number):
    assert parse_reference(text, "SD") == number


@pytest.mark.parametrize("text", NAMES_NO_TICKET)
def test_what_names_no_ticket(text):
    assert parse_reference(text, "SD") is None


@pytest.mark.parametrize("text", [None, 10042, b"SD-10042"])
def test_not_text_names_no_ticket(text):
    assert parse_reference(text, "SD") is None


def test_another_prefix_is_the_one_that_counts():
    assert parse_reference("HD-7", "HD") == 7
    assert parse_reference("[hd#7]", "HD") == 7
    assert parse_reference("SD-7", "HD") is None
    assert parse_reference("7", "HD") == 7
    # prefixes with characters that mean something to a regular expression
    assert parse_reference("IT.SD-7", "IT.SD") == 7
    assert parse_reference("ITxSD-7", "IT.SD") is None
    assert parse_reference("a+-7", "a+") == 7
    assert parse_reference("aa-7", "a+") is None
    # a prefix that ends in a dash or in digits still needs its separator
    assert parse_reference("HD2-7", "HD2") == 7
    assert parse_reference("HD27", "HD2") is None


@pytest.mark.parametrize("prefix", ["", " SD", "SD ", "S D", "S#D", "[SD]"])
def test_a_prefix_that_could_not_be_read_back_is_refused(prefix):
    with pytest.raises(ValueError):
        parse_reference("1", prefix)
    with pytest.raises(ValueError):
        format_reference(1, prefix)
    with pytest.raises(ValueError):
        format_subject_token(1, prefix)
    with pytest.raises(ValueError):
        find_subject_token("[SD#1]", prefix)


SUBJECTS = [
    ("Re: Sync broken [SD#10042]", 10042),
    ("[SD#10042] Sync broken", 10042),
    ("RE: AW: [sd#10042]", 10042),
    ("Re:[SD#10042]Sync", 10042),
    ("Re: [SD#10042] and [SD#10043]", 10042),  # the first one
    ("Re: [SD#0] then [SD#10043]", 10043),
    ("Re: [SD#" + "1" * 19 + "] then [SD#5]", 5),
    ("Re: [SD#10042", None),
    ("Re: SD-10042", None),  # a reference in a sentence is not the token
    ("Re: SD#10042", None),
    ("Re: [SD-10042]", None),
    ("Re: [HD#10042]", None),
    ("Re: [SD# 10042]", None),
    ("Re: [SD#-5]", None),
    ("Re: [SD#0]", None),
    ("Re: [SD#" + "1" * 19 + "]", None),
    ("Re: [SD#١٢]", None),
    ("", None),
]


@pytest.mark.parametrize(("subject", "number"), SUBJECTS)
def test_the_token_in_a_subject(subject, number):
    assert find_subject_token(subject, "SD") == number


def test_the_token_with_another_prefix():
    assert find_subject_token("Re: [HD#12] help", "HD") == 12
    assert find_subject_token("Re: [hd#12] help", "HD") == 12
    assert find_subject_token("Re: [SD#12] help", "HD") is None


def test_formats():
    assert format_reference(10042, "SD") == "SD-10042"
    assert format_subject_token(10042, "SD") == "[SD#10042]"
    assert format_reference(7, "HD") == "HD-7"
    assert format_subject_token(7, "HD") == "[HD#7]"


numbers = st.integers(min_value=1, max_value=10**18 - 1)
prefixes = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
    min_size=1,
    max_size=8,
)


@given(numbers)
def test_every_reference_the_desk_writes_reads_back(number):
    for prefix in ("SD", "HD"):
        reference = format_reference(number, prefix)
        token = format_subject_token(number, prefix)
        assert parse_reference(reference, prefix) == number
        assert parse_reference(reference.lower(), prefix) == number
        assert parse_reference(token, prefix) == number
        assert parse_reference(str(number), prefix) == number
        assert find_subject_token(f"Re: {token} help", prefix) == number


@given(numbers, prefixes)
def test_any_prefix_round_trips(number, prefix):
    assert parse_reference(format_reference(number, prefix), prefix) == number
    assert parse_reference(format_subject_token(number, prefix), prefix) == number
    assert find_subject_token(f"Re: x {format_subject_token(number, prefix)}", prefix) == number


@given(numbers)
def test_another_desks_reference_names_no_ticket_here(number):
    assert parse_reference(format_reference(number, "HD"), "SD") is None
    assert find_subject_token(format_subject_token(number, "HD"), "SD") is None


@given(st.text(max_size=30))
def test_any_text_either_names_a_positive_number_or_nothing(text):
    number = parse_reference(text, "SD")
    assert number is None or 0 < number < 10**18
    if number is not None:  # and then it is one of the written forms of that number
        written = text.strip().upper().strip("[]").removeprefix("SD").lstrip("-#")
        assert int(written) == number
