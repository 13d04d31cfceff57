"""Tickets in the admin: the list, the ticket's page, and the bulk actions.

One way to change a ticket: the admin never saves one itself, nor repeats a rule. Adding
calls ``services.create_ticket``; changing calls the service for each verb (details, triage,
group, assignee, status); a new entry in the thread calls ``services.add_comment``; the
changelist's actions call the same services one ticket at a time. A service's refusal
(``DomainError``) rolls the whole save back and comes back as the form's error, beside the
field it concerns; the form itself checks only what its fields cannot express.
"""

from contextlib import contextmanager
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    DropdownFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminTextInputWidget

from servicedesk.core import clock
from servicedesk.core.errors import DomainError
from servicedesk.core.labels import shown
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import ClockKind
from servicedesk.tickets import selectors, services, triage, workflow
from servicedesk.tickets.admin.fields import TextareaField
from servicedesk.tickets.admin.thread import (
    AttachmentInline,
    HistoryInline,
    NewEntryForm,
    NewEntryInline,
    ThreadInline,
)
from servicedesk.tickets.models import Channel, PriorityBand, StatusChoices, Ticket, TicketLink
from servicedesk.tickets.references import parse_reference

# Badge colours (unfold's label types) for statuses in lists and pages.
STATUS_BADGES = {
    StatusChoices.NEW: "info", StatusChoices.OPEN: "primary", StatusChoices.IN_PROGRESS: "primary",
    StatusChoices.WAITING_ON_CUSTOMER: "warning", StatusChoices.WAITING_ON_THIRD_PARTY: "warning",
    StatusChoices.RESOLVED: "success", StatusChoices.CLOSED: "",
}  # fmt: skip

DETAILS = ["steps_to_reproduce", "users_affected", "present_since", "investigations_done",
           "business_impact"]  # fmt: skip
TEXTAREAS = ["description", "steps_to_reproduce", "investigations_done", "business_impact"]
TRIAGE = ["proposed_urgency", "proposed_impact", "confirmed_urgency", "confirmed_impact", "score",
          "priority_label"]  # fmt: skip
DATES = ["created_at", "updated_at", "resolved_at", "closed_at"]


# -- the ticket form -----------------------------------------------------------------------


class TicketForm(forms.ModelForm):
    """The ticket as the desk edits it. The rules are the services' (see the module's note)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text=_(
            "Kept in the history with a status or group change. Needed to close unresolved "
            "work or to re-open a closed ticket."
        ),
    )
    # Set by the admin when a service refused the save: the field the refusal concerns (None:
    # the whole form) and the service's message.
    refusal: tuple[str | None, str] | None = None

    class Meta:
        model = Ticket
        fields = [
            "requester", "organisation", "channel", "subject", "description", "product", "category",
            "steps_to_reproduce", "users_affected", "present_since", "investigations_done",
            "business_impact", "status", "group", "assignee", "proposed_urgency", "proposed_impact",
            "confirmed_urgency", "confirmed_impact",
        ]  # fmt: skip
        field_classes = dict.fromkeys(TEXTAREAS, TextareaField)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "requester" in self.fields:
            self.fields["requester"].error_messages["required"] = _(
                "Choose the customer this ticket is for."
            )
        if self.instance.group_id and "group" in self.fields:
            # A service moves a ticket to another group; none takes it out of every group.
            self.fields["group"].required = True
            self.fields["group"].error_messages["required"] = _(
                "A ticket stays in a group: choose the group to move it to."
            )

    def clean(self):
        data = super().clean()
        if self.refusal:
            field, message = self.refusal
            self.add_error(field if field in self.fields else None, message)
        if {"confirmed_urgency", "confirmed_impact"} & set(self.changed_data):
            self._clean_confirmation(data.get("confirmed_urgency"), data.get("confirmed_impact"))
        return data

    def _clean_confirmation(self, urgency, impact) -> None:
        # ``services.confirm_triage`` takes a whole pair; two lists can ask for half of one,
        # or for none, which no service offers once a triage is confirmed.
        if urgency is None and impact is None:
            self.add_error(
                "confirmed_urgency", _("A confirmed triage can be corrected, not removed.")
            )
        elif urgency is None or impact is None:
            self.add_error("confirmed_impact", _("Give both urgency and impact, or neither."))


# -- the ticket admin ----------------------------------------------------------------------


class PriorityFilter(DropdownFilter):
    title = _("priority")
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        return [(key, shown(label)) for key, label in selectors.priority_labels().items()]

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


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    form = TicketForm
    list_display = ["reference", "subject", "organisation", "requester_name", "status_badge",
                    "priority_label", "score", "group_name", "assignee_name", "updated_at"]  # fmt: skip
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
        number = parse_reference(search_term, settings.SERVICEDESK_TICKET_PREFIX)
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in ("category", "group") and field is not None:
            field.label_from_instance = lambda row: shown(row.name)  # shipped names translated
        return field

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

    @display(description=_("group"), ordering="group__name")
    def group_name(self, ticket) -> str:
        return shown(ticket.group.name) if ticket.group else "—"

    @display(description=_("assignee"), ordering="assignee__full_name")
    def assignee_name(self, ticket) -> str:
        return ticket.assignee.display_name if ticket.assignee else "—"

    @display(description=_("status"), ordering="status", label=STATUS_BADGES)
    def status_badge(self, ticket):
        return ticket.status, ticket.get_status_display()

    @display(description=_("priority"), ordering="score")
    def priority_label(self, ticket) -> str:
        name = getattr(ticket, "priority_name", None)
        return shown(name or selectors.priority_labels().get(ticket.priority, ticket.priority))

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
                % {"clock": ClockKind(kind).label, "state": state.words, "due": due}
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
            # A service refused the save. The view's transaction rolled back everything;
            # show the same form again with the refusal as its error.
            request.servicedesk_refusal = (getattr(error, "form_field", None), error.localized())
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "servicedesk_refusal", None)
        if refusal:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def save_model(self, request, obj, form, change):
        data, by = form.cleaned_data, request.user
        if not change:
            ticket = services.create_ticket(
                by=by,
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
        changed, reason = set(form.changed_data), data.get("reason", "")
        ticket = Ticket.objects.get(pk=obj.pk)
        details = {name: data[name] for name in services.EDITABLE_FIELDS if name in changed}
        if details:
            ticket = services.update_details(ticket=ticket, by=by, **details)
        if changed & {"confirmed_urgency", "confirmed_impact"}:
            with _refusal_of("confirmed_impact"):
                ticket = services.confirm_triage(
                    ticket=ticket,
                    urgency=data["confirmed_urgency"],
                    impact=data["confirmed_impact"],
                    by=by,
                )
        if "group" in changed:
            with _refusal_of("group"):
                ticket = services.move_to_group(
                    ticket=ticket, group=data["group"], by=by, reason=reason
                )
        if "assignee" in changed:
            with _refusal_of("assignee"):
                ticket = services.assign(ticket=ticket, assignee=data["assignee"], by=by)
        # Confirming a new ticket's triage has opened it: a status move goes on from there.
        if "status" in changed and data["status"] != ticket.status:
            with _refusal_of("status"):
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
                channel=Channel.DESK,  # typed by staff at the desk
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
                self.message_user(
                    request, f"{ticket.reference}: {error.localized()}", messages.WARNING
                )
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
        raise triage.InvalidTriage(gettext_noop("No triage was proposed: triage it on its page."))
    urgency, impact = ticket.proposed_triage
    services.confirm_triage(ticket=ticket, urgency=urgency, impact=impact, by=by)


def _assign(ticket, *, assignee, by) -> None:
    services.assign(ticket=ticket, assignee=assignee, by=by)


def _move(ticket, *, to, by) -> None:
    services.change_status(ticket=ticket, to=to, by=by)


@contextmanager
def _refusal_of(field: str):
    """Mark a service's refusal with the form ``field`` it concerns, to show it there."""
    try:
        yield
    except DomainError as error:
        error.form_field = field
        raise
