"""Attachments: a size limit that stores nothing when it refuses, file names stripped of
their paths, and content saved through the storage API under a name of its own."""

import pytest
from django.core.files.base import ContentFile

from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment, Comment, Event, NumberSequence, Ticket
from tests.factories import make_ticket


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(filename: str, content: bytes, content_type: str = "text/plain") -> services.Upload:
    return services.Upload(
        filename=filename, content_type=content_type, file=ContentFile(content, name="x")
    )


def _stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


def test_an_attachment_over_the_limit_is_refused_and_nothing_is_stored(
    ticket_a, alice, settings, media
):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 10
    events = Event.objects.count()

    with pytest.raises(services.AttachmentTooLarge) as error:
        services.add_comment(
            ticket=ticket_a, author=alice, body="Log", uploads=[_upload("big.log", b"x" * 11)]
        )

    assert error.value.message == "big.log is 11 bytes; the limit is 10 bytes."
    assert (Attachment.objects.count(), Comment.objects.count()) == (0, 0)
    assert Event.objects.count() == events
    assert _stored_files(media) == []


def test_an_attachment_of_exactly_the_limit_is_accepted(ticket_a, alice, settings):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 10

    services.add_comment(
        ticket=ticket_a, author=alice, body="Log", uploads=[_upload("ten.log", b"x" * 10)]
    )

    assert Attachment.objects.get().size == 10


def test_one_upload_over_the_limit_refuses_them_all_and_stores_no_file(
    ticket_a, alice, settings, media
):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 10
    uploads = [_upload("small.log", b"fine"), _upload("big.log", b"x" * 11)]

    with pytest.raises(services.AttachmentTooLarge, match=r"big\.log"):
        services.add_comment(ticket=ticket_a, author=alice, body="Logs", uploads=uploads)

    assert (Attachment.objects.count(), Comment.objects.count()) == (0, 0)
    assert _stored_files(media) == []


def test_a_new_ticket_with_an_attachment_over_the_limit_is_not_created(bob, settings, media):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 10
    last_number = NumberSequence.objects.get(name="ticket").last_value

    with pytest.raises(services.AttachmentTooLarge):
        make_ticket(requester=bob, uploads=[_upload("big.png", b"x" * 11, "image/png")])

    assert (Ticket.objects.count(), Event.objects.count()) == (0, 0)
    assert NumberSequence.objects.get(name="ticket").last_value == last_number
    assert _stored_files(media) == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("C:\\Users\\bob\\Desktop\\screen shot.png", "screen shot.png"),
        ("/var/log/app.log", "app.log"),
        ("mixed/..\\dir/name.txt", "name.txt"),
        ("bad\r\nname\x00.txt", "badname.txt"),
        ("", "attachment"),
        ("nested/", "nested"),
    ],
)
def test_the_file_name_loses_its_path_components(ticket_a, alice, given, kept):
    services.add_comment(ticket=ticket_a, author=alice, body="See", uploads=[_upload(given, b"x")])

    attachment = Attachment.objects.get()
    assert attachment.filename == kept
    assert "/" not in attachment.filename and "\\" not in attachment.filename


def test_a_very_long_file_name_is_cut_to_fit(ticket_a, alice):
    services.add_comment(
        ticket=ticket_a, author=alice, body="See", uploads=[_upload("a" * 300 + ".txt", b"x")]
    )

    assert Attachment.objects.get().filename == "a" * 255


def test_the_content_is_stored_through_the_storage_under_a_name_of_its_own(ticket_a, alice, media):
    services.add_comment(
        ticket=ticket_a,
        author=alice,
        body="See",
        uploads=[_upload("report.pdf", b"%PDF-1.7", "application/pdf")],
    )

    attachment = Attachment.objects.get()
    month = f"{attachment.created_at:%Y%m}"
    assert attachment.file.name == f"attachments/{ticket_a.pk}/{month}/{attachment.token}"
    assert "report.pdf" not in attachment.file.name
    assert (media / attachment.file.name).read_bytes() == b"%PDF-1.7"
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.7"
    assert (attachment.size, attachment.content_type, attachment.uploaded_by) == (
        8,
        "application/pdf",
        alice,
    )


def test_each_attachment_gets_its_own_token(ticket_a, alice):
    uploads = [_upload("same.txt", b"one"), _upload("same.txt", b"two")]

    services.add_comment(ticket=ticket_a, author=alice, body="Two", uploads=uploads)

    first, second = Attachment.objects.order_by("pk")
    assert first.token != second.token and first.file.name != second.file.name
    assert (first.file.read(), second.file.read()) == (b"one", b"two")


def test_a_missing_content_type_is_stored_as_octet_stream(ticket_a, alice):
    services.add_comment(
        ticket=ticket_a, author=alice, body="See", uploads=[_upload("blob", b"x", "")]
    )

    assert Attachment.objects.get().content_type == "application/octet-stream"


def test_a_reply_may_be_only_an_attachment(ticket_a, bob):
    comment = services.add_comment(
        ticket=ticket_a, author=bob, body="", uploads=[_upload("shot.png", b"png", "image/png")]
    )

    assert comment.attachments.get().filename == "shot.png"


def test_a_ticket_filed_with_attachments_keeps_them_on_the_ticket_not_a_comment(bob):
    ticket = make_ticket(requester=bob, uploads=[_upload("screen.png", b"\x89PNG", "image/png")])

    attachment = ticket.attachments.get()
    assert (attachment.comment, attachment.uploaded_by, attachment.file.read()) == (
        None,
        bob,
        b"\x89PNG",
    )
    assert Event.objects.get(ticket=ticket, kind="attachment").new == {
        "id": attachment.pk,
        "name": "screen.png",
        "comment": None,
    }
