import pytest
from django.core.files.base import ContentFile

from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment, Comment


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(name: str, content: bytes) -> services.Upload:
    return services.Upload(
        filename=name, content_type="application/octet-stream", file=ContentFile(content, name="x")
    )


def test_an_attachment_over_the_limit_is_refused_and_nothing_is_stored(
    ticket_a, alice, settings, tmp_path
):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 10

    with pytest.raises(services.AttachmentTooLarge, match="limit is 10 bytes"):
        services.add_comment(
            ticket=ticket_a, author=alice, body="big", uploads=[_upload("big.bin", b"x" * 11)]
        )

    assert Attachment.objects.count() == 0
    assert Comment.objects.count() == 0


def test_the_file_name_loses_its_path(ticket_a, alice):
    services.add_comment(
        ticket=ticket_a, author=alice, body="see", uploads=[_upload("..\\..\\etc/passwd", b"x")]
    )

    assert Attachment.objects.get().filename == "passwd"


def test_the_content_is_stored_through_the_storage_api_under_a_random_name(
    ticket_a, alice, tmp_path
):
    services.add_comment(
        ticket=ticket_a, author=alice, body="see", uploads=[_upload("report.pdf", b"%PDF-1.7")]
    )

    attachment = Attachment.objects.get()
    assert attachment.file.read() == b"%PDF-1.7"
    assert attachment.size == 8
    assert "report.pdf" not in attachment.file.name
    assert (tmp_path / attachment.file.name).exists()


def test_a_ticket_can_be_filed_with_attachments(bob):
    from tests.factories import make_ticket

    ticket = make_ticket(requester=bob, uploads=[_upload("screen.png", b"\x89PNG")])

    assert ticket.attachments.get().comment is None
