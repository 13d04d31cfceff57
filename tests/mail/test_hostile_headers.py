"""The parser on hostile input (property tests) and the sender verdict as a table. Pure: no
database, except the last test, which runs the ingest command."""

import base64
import io
import json

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.mail import parsing
from servicedesk.mail.authentication import aligned, verify

ADDRESS = "real.sender@customer.example"
CONTROL = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32), 127]))

# Text that likes to break parsers: CR LF, NUL, angle brackets, quotes, addresses.
hostile_text = st.lists(
    st.sampled_from([*"abc xyz<>@\"'=?:;,.\\()[]", "\r\n", "\x00", "\x07", "é", "\u202e"]),
    max_size=60,
).map("".join)


def _encoded(text: str, kind: str) -> str:
    data = text.encode("utf-8")
    if kind == "b":
        return f"=?utf-8?b?{base64.b64encode(data).decode()}?="
    return "=?utf-8?q?" + "".join(f"={b:02X}" for b in data) + "?="


@settings(max_examples=300, deadline=None)
@given(name=hostile_text, kind=st.sampled_from(["b", "q"]))
def test_an_encoded_display_name_never_gives_the_address(name, kind):
    raw = (
        f"From: {_encoded(name + ' <admin@desk.example>', kind)} <{ADDRESS}>\r\n"
        f"To: support@servicedesk.localhost\r\nSubject: hi\r\n\r\nbody\r\n"
    ).encode()

    parsed = parsing.parse(raw)

    assert parsed.sender.email == ADDRESS
    assert not any(c in parsed.sender.name for c in "\r\n\x00")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=hostile_text,
    name=hostile_text,
    body=st.binary(max_size=300),
    depth=st.integers(min_value=0, max_value=60),
)
def test_hostile_messages_never_crash_and_leave_no_control_characters(subject, name, body, depth):
    head = (
        f"From: {_encoded(name, 'q')} <{ADDRESS}>\r\n"
        f"Subject: {_encoded(subject, 'b')} {subject.replace(chr(13), ' ')}\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode("utf-8", "surrogateescape")
    # multiparts nested ``depth`` deep, the innermost holding the hostile bytes
    parts = b""
    for level in range(depth):
        parts += (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
        )
    parts += b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n"
    for level in reversed(range(depth)):
        parts += f"--b{level}--\r\n".encode()

    try:
        parsed = parsing.parse(head + parts)
    except parsing.Unparseable:
        return  # refused with a reason: the caller quarantines it
    stored = [parsed.subject, parsed.sender.name, parsed.text, parsed.html, parsed.message_id]
    stored += [f.filename for f in parsed.attachments] + [
        f.content_type for f in parsed.attachments
    ]
    assert not any(c in value for value in stored for c in CONTROL)
    assert "\r" not in parsed.text
    assert parsed.sender.email == ADDRESS


def test_a_very_long_header_and_body_are_read():
    raw = (
        f"From: {'x' * 20000} <{ADDRESS}>\r\nSubject: {'word ' * 20000}\r\n\r\n".encode()
        + b"line\r\n" * 200000
    )

    parsed = parsing.parse(raw)

    assert parsed.sender.email == ADDRESS and parsed.text.count("line") == 200000


def test_an_attachment_with_a_broken_content_type_is_stored_as_octet_stream():
    raw = (
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: text/plain\r\n\r\nhello\r\n--x\r\n"
        b'Content-Type: image/p\x00ng\r\nContent-Disposition: attachment; filename="a\x00b.png"\r\n'
        b"\r\nPNGDATA\r\n--x--\r\n"
    )

    (part,) = parsing.parse(raw).attachments

    assert (part.content_type, part.filename) == ("application/octet-stream", "a b.png")


TRUSTED = ["mx.desk.example"]


@pytest.mark.parametrize(
    ("results", "verified"),
    [
        (["mx.desk.example; dmarc=pass header.from=desk.example"], True),
        (["mx.desk.example; dmarc=pass"], True),
        (["mx.desk.example; dmarc=pass header.from=other.example"], False),
        (["mx.desk.example; dkim=pass header.d=desk.example"], True),
        (["mx.desk.example; dkim=pass header.d=mail.desk.example"], True),
        (["mx.desk.example; dkim=pass header.i=@desk.example"], True),
        (["mx.desk.example; dkim=pass header.d=notdesk.example"], False),
        (["mx.desk.example; spf=pass smtp.mailfrom=bounce@desk.example"], True),
        (["mx.desk.example; spf=pass smtp.mailfrom=bounce@attacker.example"], False),
        (["mx.desk.example; spf=softfail smtp.mailfrom=bounce@desk.example"], False),
        (["MX.Desk.Example 1; dkim=pass header.d=desk.example"], True),  # ids are case-blind
        (["mx.other.example; dmarc=pass header.from=desk.example"], False),
        (["mx.desk.example; none"], False),
        (["not a header at all ;;;"], False),
        ([], False),
        # a forged header of another server beside a failing one of ours
        (
            ["mx.desk.example; dkim=fail", "mx.forged.example; dkim=pass header.d=desk.example"],
            False,
        ),
    ],
)
def test_the_verdict_table(results, verified):
    assert verify(results, from_domain="desk.example", trusted=TRUSTED).verified is verified


def test_nothing_is_verified_without_a_trusted_server():
    verdict = verify(["mx.desk.example; dmarc=pass"], from_domain="desk.example", trusted=[])
    assert not verdict.verified and "no receiving mail server is trusted" in verdict.reason


@pytest.mark.parametrize(
    ("domain", "from_domain", "expected"),
    [
        ("desk.example", "desk.example", True),
        ("desk.example", "eu.desk.example", True),
        ("eu.desk.example", "desk.example", True),
        ("evil-desk.example", "desk.example", False),
        ("", "desk.example", False),
    ],
)
def test_alignment(domain, from_domain, expected):
    assert aligned(domain, from_domain) is expected


def test_the_ingest_command_stores_a_nul_subject_and_exits_0(db, tmp_path):
    path = tmp_path / "nul.eml"
    path.write_bytes(
        b"From: bob@alpha.example\r\nSubject: CRM\x00 fails\r\nMessage-ID: <n@x.example>\r\n\r\n"
        b"Body\x00 text\r\n"
    )
    out = io.StringIO()

    call_command("mail", "ingest", "--json", str(path), stdout=out)

    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["outcome"] == "created"
