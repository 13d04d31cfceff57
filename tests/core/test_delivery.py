"""Tasks that follow a change run only if it commits, whatever the task backend."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from servicedesk.core.delivery import enqueue_with_change
from servicedesk.mail.tasks import send_due_outbox


def test_with_the_database_backend_the_task_row_is_part_of_the_change(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_with_change(send_due_outbox)
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("rolled back")

    assert not DBTaskResult.objects.exists()


def test_other_backends_get_the_task_only_once_the_change_commits(
    db, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        enqueue_with_change(send_due_outbox)

    assert len(callbacks) == 1
    assert not DBTaskResult.objects.exists()
