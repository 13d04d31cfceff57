"""Files of attachments whose transaction rolled back (or was killed) do not stay on disk."""

import os
import time

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from servicedesk.ops import maintenance
from servicedesk.schedule import SCHEDULE
from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class RolledBack(Exception):
    pass


def _reply_with_file(ticket, author, name: str) -> None:
    services.add_comment(
        ticket=ticket,
        author=author,
        body="Log attached",
        uploads=[
            services.Upload(
                filename=name, content_type="text/plain", file=ContentFile(b"log", name="x")
            )
        ],
    )


def _files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _age(paths, hours: float) -> None:
    past = time.time() - hours * 3600
    for path in paths:
        os.utime(path, (past, past))


def test_a_file_of_a_rolled_back_reply_is_removed_once_old_enough(ticket_a, alice, media):
    _reply_with_file(ticket_a, alice, "kept.log")
    with pytest.raises(RolledBack), transaction.atomic():
        _reply_with_file(ticket_a, alice, "lost.log")
        raise RolledBack
    kept = media / Attachment.objects.get().file.name
    assert len(_files(media)) == 2  # the rolled-back reply's file is on disk

    assert maintenance.remove_orphan_files() == 0  # too recent: its transaction may be running
    _age(_files(media), hours=2)
    assert maintenance.remove_orphan_files() == 1

    assert _files(media) == [kept]
    assert kept.read_bytes() == b"log"


def test_nothing_to_remove_without_attachments(db, media):
    assert maintenance.remove_orphan_files() == 0


def test_the_clean_up_is_scheduled():
    assert "servicedesk.ops.tasks.remove_orphan_files" in {job.task for job in SCHEDULE}
