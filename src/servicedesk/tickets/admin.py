"""Tickets in the admin, and the configuration of products, categories and triage bands.

One way to change a ticket: the admin never saves one itself. Adding calls
``services.create_ticket``; changing calls the service for each verb (details, triage,
group, assignee, status); a new entry in the thread calls ``services.add_comment``; the
changelist's actions call the same services one ticket at a time. The form checks the pure
rules first (workflow, triage) so a refused change shows as a form error; a refusal only a
service can see still ends as a form error, with everything rolled back.
"""

import re
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms import modelformset_factory
from django.http import HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    DropdownFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from servicedesk.core import clock
from servicedesk.core.errors import DomainError
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import ClockKind
from servicedesk.tickets import selectors, services, triage, workflow
from servicedesk.tickets.models import (
    Attachment,
    Category,
    Comment,
    Event,
    PriorityBand,
    Product,
    StatusChoices,
    Ticket,
    TicketLink,
)

# Badge colours (unfold's label types) for statuses in lists and pages.
STATUS_BADGES = {
    StatusChoices.NEW: "info", StatusChoices.OPEN: "primary", StatusChoices.IN_PROGRESS: "primary",
    StatusChoices.WAITING_ON_CUSTOMER: "warning", StatusChoices.WAITING_ON_THIRD_PARTY: "warning",
    StatusChoices.RESOLVED: "success", StatusChoices.CLOSED: "",
}  # fmt: skip


def _badge(text, kind: str = "") -> str:
    return render_to_string("unfold/helpers/label.html", {"text": text, "type": kind})


def _triage_error(form: forms.Form, urgency, impact, *, field: str) -> None:
    """Add the triage rule's refusal of ``urgency`` × ``impact`` to ``form``, if any."""
    if urgency is None and impact is None:
        return
    if urgency is None or impact is None:
        form.add_error(field, _("Give both urgency and impact, or neither."))
        return
    try:
        triage.assess(urgency=urgency, impact=impact, bands=selectors.triage_bands())
    except triage.InvalidTriage as error:
        form.add_error(field, error.message)


# -- the ticket form -----------------------------------------------------------------------


class TicketForm(forms.ModelForm):
    """The ticket as the desk edits it. ``clean`` runs the pure rules the services will run,
    so a refusal shows beside the field before anything is saved."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text=_(
            "Kept in the history with a status or group change. Needed to close unresolved "
            "work or to re-open a closed ticket."
        ),
    )
    # Set by the admin when a service refused the save after the form's own checks passed.
    refusal: str = ""

    class Meta:
        model = Ticket
        fields = [
            "requester", "organisation", "channel", "subject", "description", "product", "category",
            "steps_to_reproduce", "users_affected", "present_since", "investigations_done",
            "business_impact", "status", "group", "assignee", "proposed_urgency", "proposed_impact",
            "confirmed_urgency", "confirmed_impact",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        if self.refusal:
            self.add_error(None, self.refusal)
        if self.instance.pk is None:
            self._clean_new(data)
        else:
            self._clean_change(data)
        return data

    def _clean_new(self, data: dict) -> None:
        requester = data.get("requester")
        if "requester" in self.fields and requester is None and "requester" not in self.errors:
            self.add_error("requester", _("Choose the customer this ticket is for."))
        elif requester is not None and requester.is_staff:
            self.add_error(
                "requester", _("The requester must be a customer contact, not a member of staff.")
            )
        _triage_error(
            self, data.get("proposed_urgency"), data.get("proposed_impact"), field="proposed_impact"
        )

    def _clean_change(self, data: dict) -> None:
        ticket, changed = self.instance, set(self.changed_data)
        urgency, impact = data.get("confirmed_urgency"), data.get("confirmed_impact")
        confirming = bool(changed & {"confirmed_urgency", "confirmed_impact"})
        if confirming:
            if ticket.confirmed_triage and urgency is None and impact is None:
                self.add_error(
                    "confirmed_urgency",
                    _("A confirmed triage can be corrected, not removed."),
                )
            else:
                _triage_error(self, urgency, impact, field="confirmed_impact")
        if "group" in changed and data.get("group") is None:
            self.add_error("group", _("A ticket stays in a group: choose the group to move it to."))
        assignee = data.get("assignee")
        if "assignee" in changed and assignee and not (assignee.is_staff and assignee.is_active):
            self.add_error("assignee", _("Tickets can only be assigned to active staff."))
        if "status" in changed and data.get("status"):
            current = workflow.Status(ticket.status)
            # Confirming the triage of a new ticket opens it: the move is checked from there.
            if current == workflow.Status.NEW and confirming and urgency and impact:
                current = workflow.Status.OPEN
            if current != data["status"]:
                try:
                    workflow.check_transition(
                        current,
                        workflow.Status(data["status"]),
                        actor=workflow.Actor.STAFF,
                        reason=data.get("reason", ""),
                    )
                except workflow.TransitionNotAllowed as error:
                    self.add_error("status", error.message)


# -- the thread, the files, the history ----------------------------------------------------


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
            return _badge(_("Internal note — staff only"), "warning")
        return _badge(_("Public reply"), "info")

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
            return str(value["name"])
        if "ticket" in value:
            return f"{settings.SERVICEDESK_TICKET_PREFIX}-{value['ticket']}"
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
            return format_html("{} {}", _badge(_("internal"), "warning"), shown)
        return shown


# -- the ticket admin ----------------------------------------------------------------------


class PriorityFilter(DropdownFilter):
    title = _("priority")
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        return list(selectors.priority_labels().items())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(priority=self.value())
        return queryset


def _memo(ticket, name: str, compute):
    """Compute a read-only field of ``ticket`` once per page: the admin reads each one
    several times while rendering it."""
    cache = ticket.__dict__.setdefault("_admin_fields", {})
    if name not in cache:
        cache[name] = compute()
    return cache[name]


def _ticket_number(term: str) -> int | None:
    """The number in a reference as people write it: SD-10042, [SD#10042], #10042, 10042."""
    prefix = re.escape(settings.SERVICEDESK_TICKET_PREFIX)
    match = re.fullmatch(rf"\[?(?:{prefix}\s*[-#]?\s*|#)?(\d+)\]?", term.strip(), re.I)
    return int(match.group(1)) if match else None


DETAILS = ["steps_to_reproduce", "users_affected", "present_since", "investigations_done",
           "business_impact"]  # fmt: skip
TRIAGE = ["proposed_urgency", "proposed_impact", "confirmed_urgency", "confirmed_impact", "score",
          "priority_label"]  # fmt: skip
DATES = ["created_at", "updated_at", "resolved_at", "closed_at"]


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    form = TicketForm
    list_display = ["reference", "subject", "organisation", "requester_name", "status_badge",
                    "priority_label", "score", "group", "assignee_name", "updated_at"]  # fmt: skip
    list_fullwidth = True
    list_display_links = ["reference", "subject"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        PriorityFilter,
        ("group", RelatedDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        ("product", RelatedDropdownFilter),
        ("category", RelatedDropdownFilter),
        ("organisation", AutocompleteSelectFilter),
    ]
    list_filter_submit = True
    list_select_related = ["organisation", "requester", "group", "assignee"]
    search_fields = ["subject", "requester__email"]
    search_help_text = _("A ticket number (SD-10042), words of the subject, or an email address.")
    date_hierarchy = "created_at"
    autocomplete_fields = ["requester", "assignee", "organisation"]
    list_per_page = 50
    show_full_result_count = False  # an exact count of a large table on every page is waste
    warn_unsaved_form = True
    actions = ["confirm_proposed_triage", "assign_to_me", "mark_in_progress",
               "mark_waiting_on_customer", "mark_resolved"]  # fmt: skip

    def get_queryset(self, request):
        # The priority's label in force, read with the rows (a key no band has any more keeps
        # showing its key, as tickets keep the priority they were given).
        label = PriorityBand.objects.filter(key=OuterRef("priority")).values("label")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(priority_name=Coalesce(Subquery(label), F("priority")))
        )

    def get_search_results(self, request, queryset, search_term):
        number = _ticket_number(search_term)
        if number is not None and not search_term.strip().isdigit():
            return queryset.filter(number=number), False
        found, distinct = super().get_search_results(request, queryset, search_term)
        if number is not None:  # bare digits: that ticket, and the subjects that mention them
            found = found | queryset.filter(number=number)
        return found, distinct

    # -- pages ---------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # an agent logs a ticket for a caller
            return [
                (None, {"fields": ["requester", "organisation", "channel", "subject", "description"]}),
                (_("Classification"), {"fields": ["product", "category"]}),
                (_("Details"), {"fields": DETAILS}),
                (_("The caller's triage"), {"fields": ["proposed_urgency", "proposed_impact"]}),
            ]  # fmt: skip
        return [
            (None, {"fields": ["reference", "subject", "requester", "organisation", "channel", "product", "category"]}),
            (_("Work"), {"fields": ["status", "reason", "group", "assignee", "sla_summary", "links"]}),
            (_("Triage"), {"fields": TRIAGE, "description": _(
                "The customer's proposal is kept as it was; the desk confirms or corrects it, and "
                "the score and priority follow.")}),
            (_("Description"), {"fields": ["description", *DETAILS]}),
            (_("Dates"), {"fields": DATES}),
        ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["reference", "requester", "proposed_urgency", "proposed_impact", "score",
                "priority_label", "sla_summary", "links", *DATES]  # fmt: skip

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [ThreadInline, NewEntryInline, AttachmentInline, HistoryInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "servicedesk_refusal", "")
        if refusal:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def get_changeform_initial_data(self, request):
        return {"channel": "phone", **super().get_changeform_initial_data(request)}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a ticket's history is never lost: close it instead

    @display(description=_("number"), ordering="number")
    def reference(self, ticket) -> str:
        return format_html('<span class="whitespace-nowrap">{}</span>', ticket.reference)

    @display(description=_("requester"), ordering="requester__full_name")
    def requester_name(self, ticket) -> str:
        return ticket.requester.display_name

    @display(description=_("assignee"), ordering="assignee__full_name")
    def assignee_name(self, ticket) -> str:
        return ticket.assignee.display_name if ticket.assignee else "—"

    @display(description=_("status"), ordering="status", label=STATUS_BADGES)
    def status_badge(self, ticket):
        return ticket.status, ticket.get_status_display()

    @display(description=_("priority"), ordering="score")
    def priority_label(self, ticket) -> str:
        name = getattr(ticket, "priority_name", None)
        return name or selectors.priority_labels().get(ticket.priority, ticket.priority)

    @display(description=_("service level"))
    def sla_summary(self, ticket) -> str:
        return _memo(ticket, "sla_summary", partial(self._sla_summary, ticket))

    def _sla_summary(self, ticket) -> str:
        states = sla_selectors.ticket_sla(ticket, now=clock.now())
        if not states:
            return _("No SLA clock runs on this ticket.")
        lines = []
        for kind, state in states.items():
            due = (
                timezone.localtime(state.due_at).strftime("%Y-%m-%d %H:%M")
                if state.due_at
                else _("paused")
            )
            lines.append(
                _("%(clock)s: %(state)s, due %(due)s")
                % {"clock": ClockKind(kind).label, "state": state.state, "due": due}
            )
        return "; ".join(lines)

    @display(description=_("links"))
    def links(self, ticket) -> str:
        return _memo(ticket, "links", partial(self._links, ticket))

    def _links(self, ticket) -> str:
        def page(other) -> str:
            url = reverse("admin:tickets_ticket_change", args=[other.pk])
            return format_html('<a href="{}" class="text-link">{}</a>', url, other.reference)

        outgoing = TicketLink.objects.filter(source=ticket).select_related("target")
        incoming = TicketLink.objects.filter(target=ticket).select_related("source")
        lines = [
            format_html(
                _("{kind} {ticket}"), kind=link.get_kind_display(), ticket=page(link.target)
            )
            for link in outgoing
        ] + [
            format_html(
                _("{ticket} is linked here: {kind} this ticket"),
                ticket=page(link.source),
                kind=link.get_kind_display(),
            )
            for link in incoming
        ]
        if not lines:
            return "—"
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    # -- saving through the services -----------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            # A service refused what the form's own checks let through (a rule only the
            # service sees, or a change made meanwhile). The view's transaction rolled back
            # everything; show the same form again with the refusal as its error.
            request.servicedesk_refusal = error.message
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            ticket = services.create_ticket(
                by=request.user,
                requester=data["requester"],
                organisation=data.get("organisation"),
                subject=data["subject"],
                channel=data["channel"],
                product=data.get("product"),
                category=data.get("category"),
                urgency=data.get("proposed_urgency"),
                impact=data.get("proposed_impact"),
                **{name: data[name] for name in ("description", *DETAILS)},
            )
            # The admin goes on with ``obj`` (messages, log, redirect): make it the ticket.
            for field in Ticket._meta.concrete_fields:
                setattr(obj, field.attname, getattr(ticket, field.attname))
            obj._state.adding, obj._state.db = False, ticket._state.db
            return
        changed, by = set(form.changed_data), request.user
        reason = data.get("reason", "")
        ticket = Ticket.objects.get(pk=obj.pk)
        details = {name: data[name] for name in services.EDITABLE_FIELDS if name in changed}
        if details:
            ticket = services.update_details(ticket=ticket, by=by, **details)
        if changed & {"confirmed_urgency", "confirmed_impact"} and data.get("confirmed_urgency"):
            ticket = services.confirm_triage(
                ticket=ticket,
                urgency=data["confirmed_urgency"],
                impact=data["confirmed_impact"],
                by=by,
            )
        if "group" in changed and data.get("group"):
            ticket = services.move_to_group(
                ticket=ticket, group=data["group"], by=by, reason=reason
            )
        if "assignee" in changed:
            ticket = services.assign(ticket=ticket, assignee=data.get("assignee"), by=by)
        if "status" in changed and data["status"] != ticket.status:
            services.change_status(ticket=ticket, to=data["status"], by=by, reason=reason)

    def save_formset(self, request, form, formset, change):
        # The formsets save nothing themselves; the admin's change message reads these lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not issubclass(formset.form, NewEntryForm):
            return  # the thread, files and history are read-only
        for entry in formset.forms:
            if not entry.has_changed() or entry.instance.pk:
                continue
            upload = entry.cleaned_data.get("upload")
            uploads = [
                services.Upload(filename=upload.name, content_type=upload.content_type, file=upload)
                for upload in filter(None, [upload])
            ]
            comment = services.add_comment(
                ticket=form.instance,
                author=request.user,
                body=entry.cleaned_data.get("body") or "",
                internal=entry.cleaned_data.get("internal", False),
                uploads=uploads,
            )
            formset.new_objects.append(comment)

    # -- bulk actions --------------------------------------------------------------------

    def _each(self, request, queryset, verb, done_message) -> None:
        """Apply ``verb`` to each ticket in its own transaction; report each refusal."""
        done = 0
        for ticket in queryset.order_by("number"):
            try:
                verb(ticket)
            except DomainError as error:
                self.message_user(request, f"{ticket.reference}: {error.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @action(description=_("Confirm the proposed triage"), permissions=["change"])
    def confirm_proposed_triage(self, request, queryset):
        self._each(request, queryset, partial(_confirm_proposal, by=request.user), DONE["triage"])

    @action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        verb = partial(_assign, assignee=request.user, by=request.user)
        self._each(request, queryset, verb, DONE["assign"])

    @action(description=_("Mark in progress"), permissions=["change"])
    def mark_in_progress(self, request, queryset):
        verb = partial(_move, to=workflow.Status.IN_PROGRESS, by=request.user)
        self._each(request, queryset, verb, DONE[workflow.Status.IN_PROGRESS])

    @action(description=_("Mark waiting on customer"), permissions=["change"])
    def mark_waiting_on_customer(self, request, queryset):
        verb = partial(_move, to=workflow.Status.WAITING_ON_CUSTOMER, by=request.user)
        self._each(request, queryset, verb, DONE[workflow.Status.WAITING_ON_CUSTOMER])

    @action(description=_("Mark resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        verb = partial(_move, to=workflow.Status.RESOLVED, by=request.user)
        self._each(request, queryset, verb, DONE[workflow.Status.RESOLVED])


# What a bulk action reports when it is done (``count`` tickets).
DONE = {
    "triage": ngettext_lazy("Triage confirmed on %(count)d ticket.",
                            "Triage confirmed on %(count)d tickets.", "count"),
    "assign": ngettext_lazy("%(count)d ticket assigned to you.",
                            "%(count)d tickets assigned to you.", "count"),
    workflow.Status.IN_PROGRESS: ngettext_lazy("%(count)d ticket marked in progress.",
                                               "%(count)d tickets marked in progress.", "count"),
    workflow.Status.WAITING_ON_CUSTOMER: ngettext_lazy(
        "%(count)d ticket now waits on the customer.",
        "%(count)d tickets now wait on the customer.", "count"),
    workflow.Status.RESOLVED: ngettext_lazy("%(count)d ticket marked resolved.",
                                            "%(count)d tickets marked resolved.", "count"),
}  # fmt: skip


def _confirm_proposal(ticket, *, by) -> None:
    if not ticket.proposed_triage:
        raise triage.InvalidTriage(str(_("No triage was proposed: triage it on its page.")))
    urgency, impact = ticket.proposed_triage
    services.confirm_triage(ticket=ticket, urgency=urgency, impact=impact, by=by)


def _assign(ticket, *, assignee, by) -> None:
    services.assign(ticket=ticket, assignee=assignee, by=by)


def _move(ticket, *, to, by) -> None:
    services.change_status(ticket=ticket, to=to, by=by)


# -- products and categories ---------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ["name", "vendor", "default_group", "is_active"]
    list_filter = ["is_active", ("vendor", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["vendor", "default_group"]
    search_fields = ["name"]
    autocomplete_fields = ["vendor"]


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "kind", "default_group"]
    list_filter = ["kind"]
    list_select_related = ["default_group"]
    search_fields = ["name"]


# -- priority bands ------------------------------------------------------------------------


BAND_FIELDS = ["key", "label", "min_score", "max_score"]


def _band(values: dict) -> triage.Band:
    return triage.Band(*(values[name] for name in BAND_FIELDS))


def _bands_error(bands: list[triage.Band]) -> str | None:
    try:
        triage.validate_bands(bands)
    except triage.InvalidTriage as error:
        return error.message
    return None


class PriorityBandForm(forms.ModelForm):
    """One band, checked with all the others as they are stored: the set must still cover
    every score once, so a change that leaves a gap or an overlap is refused."""

    class Meta:
        model = PriorityBand
        fields = BAND_FIELDS

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        this = _band({"key": self.instance.key, **data})
        others = PriorityBand.objects.exclude(pk=self.instance.pk).values(*BAND_FIELDS)
        problem = _bands_error([*map(_band, others), this])
        if problem:
            raise ValidationError(
                _(
                    "%(problem)s Bands that share scores change together: use “Edit all bands” "
                    "on the list of bands."
                ),
                params={"problem": problem},
            )
        return data


class BandRowForm(forms.ModelForm):
    class Meta:
        model = PriorityBand
        fields = BAND_FIELDS
        widgets = {
            "key": UnfoldAdminTextInputWidget,
            "label": UnfoldAdminTextInputWidget,
            "min_score": UnfoldAdminIntegerFieldWidget,
            "max_score": UnfoldAdminIntegerFieldWidget,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Tickets and SLA targets name a band by its key: it never changes.
            self.fields["key"].disabled = True


class BandSetFormSet(forms.BaseModelFormSet):
    """All the bands at once: the set that results must cover 1–16 once each."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget = UnfoldBooleanSwitchWidget()

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        problem = _bands_error([_band(form.cleaned_data) for form in kept])
        if problem:
            raise ValidationError(problem)


BandSet = modelformset_factory(
    PriorityBand, form=BandRowForm, formset=BandSetFormSet, extra=1, can_delete=True,
    can_delete_extra=False,
)  # fmt: skip


@admin.register(PriorityBand)
class PriorityBandAdmin(ModelAdmin):
    """Bands map triage scores to priorities. One band's label can be changed on its own
    page; scores, new bands and removed bands change together on “Edit all bands”, where the
    whole set is checked at once. Tickets keep the priority key they were given."""

    form = PriorityBandForm
    list_display = ["label", "key", "min_score", "max_score"]
    ordering = ["min_score"]
    actions_list = ["edit_all_bands"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removing one band always leaves a gap: remove it on "Edit all bands"

    @action(description=_("Edit all bands"), url_path="edit-all", permissions=["change"])
    def edit_all_bands(self, request):
        queryset = PriorityBand.objects.order_by("min_score")
        if request.method == "POST":
            with transaction.atomic():
                list(PriorityBand.objects.select_for_update())  # one editor of the set at a time
                formset = BandSet(request.POST, queryset=queryset)
                if formset.is_valid():
                    # Deletions are logged first: a deleted band has no id afterwards.
                    self._log(request, [form.instance for form in formset.deleted_forms], DELETION)
                    formset.save()
                    self._log(request, formset.new_objects, ADDITION)
                    self._log(request, [band for band, _f in formset.changed_objects], CHANGE)
                    self.message_user(
                        request, _("The priority bands were saved."), messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:tickets_priorityband_changelist"))
        else:
            formset = BandSet(queryset=queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Edit all priority bands"),
            "opts": self.opts,
            "formset": formset,
        }
        return TemplateResponse(request, "admin/tickets/priorityband/edit_all.html", context)

    def _log(self, request, bands: list[PriorityBand], flag: int) -> None:
        if bands:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=bands,
                action_flag=flag,
                change_message=str(_("Edited with the other bands.")),
            )
