"""A ticket's thread, files and history on its admin page, and the row to write a new entry.

Everything here is shown, never edited: a new reply or note is saved through
``services.add_comment`` by the ticket admin (``TicketAdmin.save_formset``).
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.decorators import display
from unfold.widgets import UnfoldAdminFileFieldWidget

from servicedesk.core import labels
from servicedesk.tickets.admin.fields import TextareaField
from servicedesk.tickets.models import Attachment, Comment, Event, StatusChoices
from servicedesk.tickets.references import format_reference


def badge(text, kind: str = "") -> str:
    """``text`` as one of unfold's labels (``kind``: info, warning, success, ...)."""
    return render_to_string("unfold/helpers/label.html", {"text": text, "type": kind})


class _ReadOnlyInline(TabularInline):
    """Shows what happened; nothing in it is edited, added or deleted from here."""

    extra = 0
    max_num = 0
    can_delete = False
    hide_title = True
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ThreadInline(_ReadOnlyInline):
    """The thread, oldest first. Internal notes are marked: customers never see them."""

    model = Comment
    verbose_name = _("thread entry")
    verbose_name_plural = _("thread")
    fields = ["created_at", "author", "entry_kind", "channel", "text"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @display(description=_("kind"))
    def entry_kind(self, comment) -> str:
        if comment.internal:
            return badge(_("Internal note — staff only"), "warning")
        return badge(_("Public reply"), "info")

    @display(description=_("text"))
    def text(self, comment) -> str:
        return linebreaksbr(comment.body)  # escaped, then the line breaks kept


class NewEntryForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("attachment"), required=False, widget=UnfoldAdminFileFieldWidget
    )

    class Meta:
        model = Comment
        fields = ["body", "internal"]
        field_classes = {"body": TextareaField}
        labels = {"internal": _("Internal note (staff only)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].required = False  # a file alone is a valid entry too

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("upload"):
            raise ValidationError(_("Write a text or attach a file."))
        return data


class NewEntryInline(TabularInline):
    """Write a public reply (emailed to the requester) or an internal note; saved through
    ``services.add_comment`` by the ticket admin's ``save_formset``."""

    model = Comment
    form = NewEntryForm
    verbose_name = _("new reply or note")
    verbose_name_plural = _("write a reply or an internal note")
    fields = ["body", "internal", "upload"]
    extra = 1
    max_num = 1
    can_delete = False
    hide_title = True

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is not None


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    verbose_name_plural = _("attachments")
    fields = ["created_at", "file_link", "content_type", "size", "uploaded_by", "on_note"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by", "comment")

    @display(description=_("file"))
    def file_link(self, attachment) -> str:
        url = reverse("attachment-download", args=[attachment.pk])
        return format_html('<a href="{}" class="text-link">{}</a>', url, attachment.filename)

    @display(description=_("on an internal note"), boolean=True)
    def on_note(self, attachment) -> bool:
        return bool(attachment.comment and attachment.comment.internal)


def _history_value(value, *, field: str) -> str:
    """An event's ``old`` or ``new`` as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        if "name" in value:
            return labels.shown(str(value["name"]))
        if "ticket" in value:
            return format_reference(value["ticket"], settings.SERVICEDESK_TICKET_PREFIX)
        shown = [
            f"{key}: {_history_value(item, field=key)}"
            for key, item in value.items()
            if key not in {"id", "comment"}  # the thread shows the entry itself
        ]
        return "; ".join(shown) or "—"
    if field == "status" and value in StatusChoices.values:
        return str(StatusChoices(value).label)
    return str(value)


class HistoryInline(_ReadOnlyInline):
    """Every change, oldest first: who, when, what, from what, to what, and why."""

    model = Event
    verbose_name_plural = _("history")
    fields = ["at", "actor_name", "kind", "field", "old_value", "new_value", "reason"]
    readonly_fields = fields
    ordering = ["at", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @display(description=_("who"))
    def actor_name(self, event) -> str:
        return event.actor.display_name if event.actor else _("the desk (automation)")

    @display(description=_("from"))
    def old_value(self, event) -> str:
        return _history_value(event.old, field=event.field)

    @display(description=_("to"))
    def new_value(self, event) -> str:
        shown = _history_value(event.new, field=event.field)
        if event.internal:
            return format_html("{} {}", badge(_("internal"), "warning"), shown)
        return shown
