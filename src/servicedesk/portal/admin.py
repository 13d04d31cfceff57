"""The Contacts page of the admin, with the portal's action: "Invite to the portal".

The page itself is ``accounts.admin.ContactAdmin``; it is extended here, not there, because
the invitation is an email and accounts imports no channel (the import contract). This
module re-registers the page with the action: the portal app comes after accounts in
``INSTALLED_APPS``, so its admin module is loaded after theirs.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from servicedesk.accounts.admin import ContactAdmin
from servicedesk.accounts.models import Contact
from servicedesk.mail.access import mail_invitation


@admin.action(description=_("Invite to the portal"), permissions=["change"])
def invite_to_portal(modeladmin, request, queryset):
    """Email each selected active contact a link to choose a password (the link works for
    contacts without a usable password too, unlike "forgotten your password")."""
    chosen = list(queryset.filter(is_staff=False))
    invited = [c for c in chosen if c.is_active]
    with transaction.atomic():
        for contact in invited:
            mail_invitation(contact=contact, by=request.user)
    if invited:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d contact invited to the portal.",
                "%(count)d contacts invited to the portal.",
                len(invited),
            )
            % {"count": len(invited)},
            messages.SUCCESS,
        )
    skipped = len(chosen) - len(invited)
    if skipped:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d inactive contact was not invited.",
                "%(count)d inactive contacts were not invited.",
                skipped,
            )
            % {"count": skipped},
            messages.WARNING,
        )


class PortalContactAdmin(ContactAdmin):
    actions = [*(ContactAdmin.actions or ()), invite_to_portal]


admin.site.unregister(Contact)
admin.site.register(Contact, PortalContactAdmin)
