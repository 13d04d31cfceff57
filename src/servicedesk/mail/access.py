"""The mail that lets a person in: the signed login link that the customer emails carry, the
link asked for at ``/status/``, and the invitation to choose a password for the portal.

Accounts sends no mail (the domain imports no channel): the pages and admin actions that
invite someone call ``accounts.services`` and then ``mail_invitation`` here, in the same
transaction, so a refused or rolled-back invitation sends nothing.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from servicedesk.accounts.models import User
from servicedesk.core import links
from servicedesk.mail.notifications import (
    _desk_name,
    _language,
    _render,
    login_link,
    new_message_id,
)
from servicedesk.mail.outbox import queue_email
from servicedesk.tickets.models import Ticket


def mail_status_link(*, ticket: Ticket) -> None:
    """Email the requester of ``ticket`` a login link to it (asked for at ``/status/``)."""
    requester = ticket.requester
    link = login_link(requester, ticket)
    if not link:
        return
    with translation.override(_language(requester)):
        subject, body = _render(
            "mail/status_link.txt",
            {
                "ticket": ticket,
                "requester": requester,
                "status": ticket.get_status_display(),
                "login_link": link,
                "link_days": settings.SERVICEDESK_LINK_DAYS,
                "desk_name": _desk_name(),
            },
        )
    queue_email(
        to=[requester.email],
        subject=subject,
        body_text=body,
        message_id=new_message_id(ticket.reference),
        headers={"Auto-Submitted": "auto-generated"},
        ticket=ticket,
    )


def invitation_link(contact: User) -> str:
    """Where ``contact`` chooses a password: Django's reset confirmation, which takes a
    contact whose password is still unusable (the token works once: setting a password, or
    signing in, changes what it was made from)."""
    uid = urlsafe_base64_encode(force_bytes(contact.pk))
    token = default_token_generator.make_token(contact)
    return links.absolute(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


def mail_invitation(*, contact: User, by: User | None = None) -> None:
    """Invite ``contact`` to the portal: a link to choose a password, in their language.
    ``by`` is who invites them (their customer administrator, or staff)."""
    if contact.is_staff or not contact.is_active:
        raise ValueError("Only active contacts are invited to the portal.")
    with translation.override(_language(contact)):
        subject, body = _render(
            "mail/invitation.txt",
            {
                "contact": contact,
                "inviter": by.display_name if by is not None and not by.is_staff else "",
                "link": invitation_link(contact),
                "link_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                "signin": links.absolute(reverse("signin")),
                "desk_name": _desk_name(),
            },
        )
    queue_email(
        to=[contact.email],
        subject=subject,
        body_text=body,
        headers={"Auto-Submitted": "auto-generated"},
    )
