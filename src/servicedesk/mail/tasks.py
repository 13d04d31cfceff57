"""Background work of the mail app. Tasks load by id and call one service."""

from django_tasks import task

from servicedesk.mail import outbox


@task()
def send_outbox_message(*, message_id: int, **kwargs) -> str:
    return outbox.send(message_id=message_id)


@task()
def send_due_outbox(**kwargs) -> dict[str, int]:
    return outbox.send_due()


@task()
def poll_mailboxes(**kwargs) -> dict[str, int]:
    """Fetch new mail from every active IMAP mailbox, and finish what a killed run left."""
    from servicedesk.mail import imap, ingest

    finished = len(ingest.process_unfinished())
    counts = imap.poll_all()
    counts["unfinished"] = finished
    return counts
