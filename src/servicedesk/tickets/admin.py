"""Tickets in the admin, and the configuration of products, categories and triage bands.

The admin never saves a ticket itself: adding calls ``services.create_ticket``, changing
calls the service for each verb (details, triage, assignment, group, status), and a new
entry in the thread calls ``services.add_comment``. The form checks the pure rules first so
a refused move shows as a form error and changes nothing.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action
from unfold.widgets import UnfoldAdminTextInputWidget

from servicedesk.core.errors import DomainError
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import ClockKind
from servicedesk.tickets import services, triage, workflow
from servicedesk.tickets.models import Category, Comment, Event, PriorityBand, Product, Ticket

DETAIL_FIELDS = [f for f in services.EDITABLE_FIELDS if f != "channel"]


class TicketForm(forms.ModelForm):
    status_reason = forms.CharField(
        label=_("Reason for the status change"),
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text=_("Needed to close unresolved work or to re-open a closed ticket."),
    )

    class Meta:
        model = Ticket
        fields = [
            "requester", "organisation", "channel", "subject", "description", "product", "category",
            "steps_to_reproduce", "users_affected", "present_since", "investigations_done", "business_impact",
            "status", "group", "assignee", "proposed_urgency", "proposed_impact", "confirmed_urgency",
            "confirmed_impact",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        urgency, impact = data.get("confirmed_urgency"), data.get("confirmed_impact")
        if (urgency is None) != (impact is None):
            raise ValidationError(_("Confirm both urgency and impact, or neither."))
        if self.instance.pk and "status" in self.changed_data:
            current = self.initial.get("status")
            # Confirming a new ticket opens it; the move is checked from where it will be.
            if current == workflow.Status.NEW and "confirmed_urgency" in self.changed_data:
                current = workflow.Status.OPEN
            if current != data["status"]:
                try:
                    workflow.check_transition(
                        workflow.Status(current),
                        workflow.Status(data["status"]),
                        actor=workflow.Actor.STAFF,
                        reason=data.get("status_reason", ""),
                    )
                except workflow.TransitionNotAllowed as error:
                    self.add_error("status", error.message)
        if self.instance.pk is None and not data.get("requester"):
            self.add_error("requester", _("Choose the customer this ticket is for."))
        elif data.get("requester") and data["requester"].is_staff:
            self.add_error(
                "requester", _("The requester must be a customer contact, not a member of staff.")
            )
        return data


class ThreadInline(TabularInline):
    """The thread as it is: read-only. Internal notes are marked."""

    model = Comment
    verbose_name = _("thread entry")
    verbose_name_plural = _("thread")
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "internal", "channel", "body"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class NewCommentInline(TabularInline):
    """Write a public reply or an internal note; saved through ``services.add_comment``."""

    model = Comment
    verbose_name = _("new reply or note")
    verbose_name_plural = _("reply")
    extra = 1
    max_num = 1
    can_delete = False
    fields = ["body", "internal"]

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return obj is not None  # only on an existing ticket


class HistoryInline(TabularInline):
    model = Event
    verbose_name_plural = _("history")
    extra = 0
    can_delete = False
    fields = ["at", "actor", "kind", "field", "old", "new", "reason"]
    readonly_fields = fields
    ordering = ["at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    form = TicketForm
    list_display = [
        "reference",
        "subject",
        "organisation",
        "requester",
        "status",
        "priority",
        "score",
        "group",
        "assignee",
        "updated_at",
    ]
    list_display_links = ["reference", "subject"]
    list_filter = ["status", "priority", "group", "channel", "product", "category", "organisation"]
    list_select_related = ["organisation", "requester", "group", "assignee"]
    search_fields = ["=number", "subject", "requester__email"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["requester", "assignee", "organisation"]
    list_per_page = 50
    show_full_result_count = False  # an exact count of a large table on every page is waste
    actions = ["confirm_proposed_triage", "assign_to_me", "mark_in_progress", "mark_resolved"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # an agent logs a ticket for a caller
            return [
                (
                    None,
                    {
                        "fields": [
                            "requester",
                            "channel",
                            "subject",
                            "description",
                            "product",
                            "category",
                        ]
                    },
                ),
                (
                    _("Details"),
                    {
                        "fields": [
                            "steps_to_reproduce",
                            "users_affected",
                            "present_since",
                            "investigations_done",
                            "business_impact",
                        ]
                    },
                ),
                (_("The caller's triage"), {"fields": ["proposed_urgency", "proposed_impact"]}),
            ]
        return [
            (
                None,
                {
                    "fields": [
                        "reference",
                        "subject",
                        "organisation",
                        "requester",
                        "channel",
                        "product",
                        "category",
                    ]
                },
            ),
            (
                _("Work"),
                {"fields": ["status", "status_reason", "group", "assignee", "sla_summary"]},
            ),
            (
                _("Triage"),
                {
                    "fields": [
                        "proposed_urgency",
                        "proposed_impact",
                        "confirmed_urgency",
                        "confirmed_impact",
                        "score",
                        "priority",
                    ]
                },
            ),
            (
                _("Description"),
                {
                    "fields": [
                        "description",
                        "steps_to_reproduce",
                        "users_affected",
                        "present_since",
                        "investigations_done",
                        "business_impact",
                    ]
                },
            ),
            (_("Dates"), {"fields": ["created_at", "updated_at", "resolved_at", "closed_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "reference",
            "requester",
            "channel",
            "proposed_urgency",
            "proposed_impact",
            "score",
            "priority",
            "sla_summary",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]

    def get_inlines(self, request, obj):
        return [ThreadInline, NewCommentInline, HistoryInline] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # a ticket's history is never lost: close it instead

    def get_changeform_initial_data(self, request):
        return {"channel": "phone"}

    @admin.display(description=_("number"), ordering="number")
    def reference(self, ticket):
        return ticket.reference

    @admin.display(description=_("service level"))
    def sla_summary(self, ticket):
        states = sla_selectors.ticket_sla(ticket, now=timezone.now())
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

    # -- saving through the services ---------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            ticket = services.create_ticket(
                by=request.user,
                requester=data["requester"],
                subject=data["subject"],
                channel=data["channel"],
                description=data.get("description", ""),
                product=data.get("product"),
                category=data.get("category"),
                urgency=data.get("proposed_urgency"),
                impact=data.get("proposed_impact"),
                steps_to_reproduce=data.get("steps_to_reproduce", ""),
                users_affected=data.get("users_affected"),
                present_since=data.get("present_since"),
                investigations_done=data.get("investigations_done", ""),
                business_impact=data.get("business_impact", ""),
            )
            obj.pk, obj.number = ticket.pk, ticket.number
            return
        changed = set(form.changed_data)
        ticket = Ticket.objects.get(pk=obj.pk)
        details = {name: data[name] for name in DETAIL_FIELDS if name in changed}
        if details:
            ticket = services.update_details(ticket=ticket, by=request.user, **details)
        if changed & {"confirmed_urgency", "confirmed_impact"} and data.get("confirmed_urgency"):
            ticket = services.confirm_triage(
                ticket=ticket,
                urgency=data["confirmed_urgency"],
                impact=data["confirmed_impact"],
                by=request.user,
            )
        if "group" in changed and data.get("group"):
            ticket = services.move_to_group(ticket=ticket, group=data["group"], by=request.user)
        if "assignee" in changed:
            ticket = services.assign(ticket=ticket, assignee=data.get("assignee"), by=request.user)
        if "status" in changed and data["status"] != ticket.status:
            services.change_status(
                ticket=ticket,
                to=data["status"],
                by=request.user,
                reason=data.get("status_reason", ""),
            )

    def save_formset(self, request, form, formset, change):
        # Nothing is saved by the formsets themselves; the admin's change message reads these.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is not Comment:
            return
        for (
            entry
        ) in formset.forms:  # only the new-reply form can have changed: the thread is read-only
            if entry.has_changed() and not entry.instance.pk and entry.cleaned_data.get("body"):
                services.add_comment(
                    ticket=form.instance,
                    author=request.user,
                    body=entry.cleaned_data["body"],
                    internal=entry.cleaned_data.get("internal", False),
                )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A rule the form could not check beforehand still ends as a message, not an error page.
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    # -- bulk actions ------------------------------------------------------------------

    def _each(self, request, queryset, verb, done_message):
        done = 0
        for ticket in queryset:
            try:
                verb(ticket)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{ticket.reference}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @action(description=_("Confirm the proposed triage"))
    def confirm_proposed_triage(self, request, queryset):
        def confirm(ticket):
            if not ticket.proposed_triage:
                raise triage.InvalidTriage(str(_("No triage was proposed.")))
            urgency, impact = ticket.proposed_triage
            services.confirm_triage(ticket=ticket, urgency=urgency, impact=impact, by=request.user)

        self._each(request, queryset, confirm, _("Triage confirmed on %(count)d tickets."))

    @action(description=_("Assign to me"))
    def assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.assign(ticket=t, assignee=request.user, by=request.user),
            _("%(count)d tickets assigned to you."),
        )

    @action(description=_("Mark in progress"))
    def mark_in_progress(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.change_status(ticket=t, to="in_progress", by=request.user),
            _("%(count)d tickets marked in progress."),
        )

    @action(description=_("Mark resolved"))
    def mark_resolved(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.change_status(ticket=t, to="resolved", by=request.user),
            _("%(count)d tickets marked resolved."),
        )


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ["name", "vendor", "default_group", "is_active"]
    list_select_related = ["vendor", "default_group"]
    search_fields = ["name"]


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "kind", "default_group"]
    list_select_related = ["default_group"]
    search_fields = ["name"]


class PriorityBandForm(forms.ModelForm):
    class Meta:
        model = PriorityBand
        fields = ["key", "label", "min_score", "max_score"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        low, high = data["min_score"], data["max_score"]
        if not triage.MIN_SCORE <= low <= high <= triage.MAX_SCORE:
            raise ValidationError(_("Scores run from 1 to 16, the lowest first."))
        for other in PriorityBand.objects.exclude(pk=self.instance.pk):
            if low <= other.max_score and other.min_score <= high:
                raise ValidationError(
                    _("Scores %(low)d–%(high)d overlap the band %(band)s.")
                    % {"low": low, "high": high, "band": other}
                )
        return data


@admin.register(PriorityBand)
class PriorityBandAdmin(ModelAdmin):
    """Bands are edited one at a time: overlaps are refused, and a gap left between bands is
    reported until it is closed (a ticket scored in a gap is refused with a clear error)."""

    form = PriorityBandForm
    list_display = ["label", "key", "min_score", "max_score"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        bands = [
            triage.Band(b.key, b.label, b.min_score, b.max_score)
            for b in PriorityBand.objects.all()
        ]
        try:
            triage.validate_bands(bands)
        except triage.InvalidTriage as error:
            self.message_user(request, error.message, messages.WARNING)
