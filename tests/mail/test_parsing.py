"""The pure mail modules: parsing, identity, noise and quote folding."""

import pytest

from servicedesk.mail import noise, parsing
from servicedesk.mail.quoting import split_reply
from tests.mail.conftest import CORPUS


def _raw(*headers: str, body: str = "Hello", ctype: str = "text/plain; charset=utf-8") -> bytes:
    lines = [*headers, f"Content-Type: {ctype}", "MIME-Version: 1.0", "", body]
    return "\r\n".join(lines).encode("utf-8")


# -- identity -------------------------------------------------------------------------------


def test_a_redelivery_with_other_transport_headers_and_line_endings_has_the_same_identity():
    first = _raw(
        "Received: from a by b", "From: ann@x.example", "Message-ID: <m1@x>", "Subject: Hi"
    )
    again = (
        b"From ann@x.example  Mon Nov 23 10:00:00 2026\n"
        + _raw(
            "Received: from c by d", "Delivered-To: desk@y", "From: ann@x.example",
            "Message-ID: <m1@x>", "Subject: Hi",
        ).replace(b"\r\n", b"\n")
    )  # fmt: skip

    assert parsing.identity(first) == parsing.identity(again)
    assert parsing.identity(first)[0] == "m1@x"


def test_a_different_message_reusing_a_message_id_has_another_identity():
    one = parsing.identity((CORPUS / "zammad" / "mail103.box").read_bytes())
    other = parsing.identity((CORPUS / "zammad" / "mail104.box").read_bytes())

    assert one[0] == other[0]  # the same Message-ID …
    assert one[1] != other[1]  # … but not the same message


# -- parsing --------------------------------------------------------------------------------


def test_encoded_words_charsets_and_mislabelled_utf8_are_decoded():
    raw = _raw(
        "From: =?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <renee@x.example>",
        "Subject: =?utf-8?B?w4ljaMOpYW5jZSBkZXBhc3PDqWU=?=",
        body="Déjà vu",
        ctype="text/plain; charset=us-ascii",  # a lie: the body is UTF-8
    )
    parsed = parsing.parse(raw)

    assert parsed.sender == parsing.Address("renee@x.example", "Renée Dupré")
    assert parsed.subject == "Échéance depassée"
    assert parsed.text == "Déjà vu"


def test_a_malformed_encoded_word_with_spaces_inside_is_still_decoded():
    parsed = parsing.parse((CORPUS / "zammad" / "mail050.box").read_bytes())

    assert parsed.subject == "ABC / 123 / Wetterau West / ABC"
    assert parsed.text.startswith("äöüß ad asd")  # ISO-8859-1 quoted-printable


def test_without_a_from_header_the_next_header_that_names_the_sender_is_used():
    parsed = parsing.parse((CORPUS / "zammad" / "mail016.box").read_bytes())

    assert parsed.sender.email == "vipyimin@126.com"  # Reply-To
    assert "直通美国" in parsed.subject  # GB2312, read as its superset GB18030


def test_a_message_naming_nobody_is_unparseable_with_a_reason():
    with pytest.raises(parsing.Unparseable, match="no sender"):
        parsing.parse(b"Subject: hello\r\n\r\nwho sent this?")
    with pytest.raises(parsing.Unparseable, match="empty"):
        parsing.parse(b"\r\n\r\n")


def test_html_is_sanitised_and_a_readable_text_with_quoting_is_kept():
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        '<p onclick="steal()">New text<br>second line</p><img src="cid:logo" onerror="x()">'
        '<a href="javascript:alert(1)">link</a>'
        "<blockquote><p>Earlier message</p></blockquote></body></html>"
    )
    parsed = parsing.parse(_raw("From: a@x.example", body=html, ctype="text/html; charset=utf-8"))

    for forbidden in ("<script", "onclick", "onerror", "javascript:", "alert(1)", "<style"):
        assert forbidden not in parsed.html
    assert 'src="cid:logo"' in parsed.html
    assert parsed.text == "New text\nsecond line\nlink\n\n> Earlier message"


def test_alternative_parts_give_the_plain_text_and_mixed_parts_all_their_text():
    alternative = parsing.parse((CORPUS / "django-helpdesk" / "quoted_printable.eml").read_bytes())
    assert alternative.text == "Tohle je test českých písmen odeslaných z gmailu."
    assert alternative.html

    mixed = parsing.parse((CORPUS / "zammad" / "mail111.box").read_bytes())
    assert mixed.text == "This is the html message\n\nThis is the text signature part"


def test_attachments_with_rfc2231_names_inline_images_and_attached_messages_are_kept():
    named = parsing.parse((CORPUS / "zammad" / "mail081.box").read_bytes())
    assert [a.filename for a in named.attachments] == ["Erklärung.txt"]

    inline = parsing.parse((CORPUS / "zammad" / "mail079.box").read_bytes())
    assert [(a.content_type, bool(a.content_id)) for a in inline.attachments] == [
        ("image/jpeg", True)
    ]

    forwarded = parsing.parse((CORPUS / "zammad" / "mail014.box").read_bytes())
    assert [a.content_type for a in forwarded.attachments] == ["message/rfc822"] * 2
    assert all(a.filename.endswith(".eml") for a in forwarded.attachments)


def test_a_delivery_report_names_the_message_that_bounced():
    parsed = parsing.parse(
        (CORPUS / "zammad" / "mail033-undelivered-mail-returned-to-sender-notification.box")
        .read_bytes()
    )  # fmt: skip

    assert parsed.content_type == "multipart/report"
    assert parsed.reported_message_ids[0].startswith("notification.20150830145600")


@pytest.mark.parametrize(
    "path",
    sorted(p.name for p in (CORPUS / "zammad").glob("*.box"))
    + sorted(p.name for p in (CORPUS / "django-helpdesk").glob("*.eml")),
)
def test_every_corpus_message_parses_or_is_refused_with_a_reason(path):
    folder = "zammad" if path.endswith(".box") else "django-helpdesk"
    raw = (CORPUS / folder / path).read_bytes()
    try:
        parsed = parsing.parse(raw)
    except parsing.Unparseable as error:
        assert str(error)
    else:
        assert "@" in parsed.sender.email
        assert "<script" not in parsed.html.lower()


# -- noise ----------------------------------------------------------------------------------


def _classify(*headers: str, sender="ann@x.example", subject="Hi", ctype="text/plain"):
    parsed = parsing.parse(_raw(f"From: {sender}", f"Subject: {subject}", *headers))
    return noise.classify(parsed.headers, sender=sender, subject=subject, content_type=ctype)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "X-Autoreply: yes",
        "X-Autorespond: yes",
        "X-Auto-Response-Suppress: All",
        "X-Loop: desk@x.example",
        "List-Id: <news.x.example>",
    ],
)
def test_automatic_mail_is_recognised_by_its_headers(header):
    assert _classify(header).kind == "auto"


@pytest.mark.parametrize(
    "subject", ["Out of Office: Re: ticket", "Réponse automatique : absent", "Autosvar: ferie"]
)
def test_vacation_replies_are_recognised_by_their_subject_in_three_languages(subject):
    assert _classify(subject=subject).kind == "auto"


def test_a_person_writing_is_not_noise_even_with_auto_submitted_no():
    assert _classify("Auto-Submitted: no") is None
    assert _classify() is None


def test_mail_from_a_mailer_daemon_is_a_bounce():
    assert _classify(sender="MAILER-DAEMON@mx.example").kind == "bounce"


# -- folding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # English Gmail, wrapped attribution
        (
            "Thanks, that fixed it.\n\nOn Mon, 23 Nov 2026 at 10:00, Desk <support@desk.example>\nwrote:\n> Try this",
            "Thanks, that fixed it.",
        ),
        # French Outlook header block
        (
            "Merci !\n\nDe : Support <support@desk.example>\nEnvoyé : lundi 23 novembre 2026 10:00\nÀ : Ann\nObjet : RE: [SD#10001]\n\nEssayez ceci",
            "Merci !",
        ),
        # French Gmail / Thunderbird
        (
            "C'est réglé.\n\nLe 23/11/2026 à 10:00, Support a écrit :\n> Essayez ceci",
            "C'est réglé.",
        ),
        # Norwegian Outlook and Gmail
        (
            "Takk!\n\nFra: Support <support@desk.example>\nSendt: mandag 23. november 2026 10:00\nTil: Ola\nEmne: SV: sak",
            "Takk!",
        ),
        (
            "Det virker nå.\n\nman. 23. nov. 2026 kl. 10:00 skrev Support <support@desk.example>:\n> Prøv dette",
            "Det virker nå.",
        ),
        ("Det virker.\n\n-----Opprinnelig melding-----\nFra: Support", "Det virker."),
        # A signature and a phone footer
        ("See attached.\n\n-- \nAnn Smith\nHarbour & Finch", "See attached."),
        ("Ok\n\nSendt fra min iPhone", "Ok"),
    ],
)
def test_quotes_and_signatures_are_folded_in_three_languages(text, new):
    reply = split_reply(text)

    assert reply.new == new
    assert reply.folded and reply.folded in text  # folded away, not deleted


def test_a_quote_above_the_answer_is_folded_and_the_answer_kept():
    reply = split_reply("Ann wrote:\n> question\n> more\n\nMy answer\nis here")
    assert reply.new == "My answer\nis here"
    assert reply.folded.startswith("Ann wrote:")


def test_a_message_that_is_all_quote_is_shown_whole_rather_than_empty():
    text = "> only a quote\n> nothing new"
    reply = split_reply(text)
    assert (reply.new, reply.folded) == (text, "")
