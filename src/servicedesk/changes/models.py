"""Change requests (SPEC §7): what a customer asks to change in their CRM, from request to
review, with the administrator's approval in between; its history; the monthly report.

State changes go through ``services.py`` (the stage table is ``workflow.py``); reads through
``selectors.py``. A CR is never deleted: an unapproved one is kept for traceability.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Organisation, Vendor
from servicedesk.changes import workflow
from servicedesk.tickets.models import Product, Ticket

STAGE_CHOICES = [(stage.value, _(label)) for stage, label in workflow.LABELS.items()]


class Scope(models.TextChoices):
    STANDARD = "standard", _("Standard software")
    CUSTOMISATION = "customisation", _("Customisation")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    UNAPPROVED = "unapproved", _("Not approved")


class ChangeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ChangeQuerySet":
        """Staff see every CR; loggers and administrators their organisation's; an end user
        the ones they requested; anyone else none."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self
        if user.sees_whole_organisation and user.organisation_id:
            return self.filter(Q(organisation_id=user.organisation_id) | Q(requester_id=user.pk))
        return self.filter(requester_id=user.pk)

    def open(self) -> "ChangeQuerySet":
        return self.filter(stage__in=[s.value for s in workflow.OPEN])

    def not_yet_approved(self) -> "ChangeQuerySet":
        return self.filter(stage__in=[s.value for s in workflow.NOT_YET_APPROVED])


# The record's free texts: null in the API clears one, the history quotes their beginning.
TEXT_FIELDS = (
    "description",
    "feasibility",
    "impact",
    "risk",
    "resources",
    "test_outcome",
    "lessons_learned",
)


class ChangeRequest(models.Model):
    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        help_text=_("The support ticket it came from, if any."),
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="requested_changes",
    )
    requested_at = models.DateTimeField(_("requested"))
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"))
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT
    )
    scope = models.CharField(
        _("scope"), max_length=15, choices=Scope.choices, default=Scope.CUSTOMISATION
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=STAGE_CHOICES, default=workflow.Stage.REQUESTED
    )
    # Who takes it: the product's vendor (standard software) or a desk agent.
    vendor = models.ForeignKey(
        Vendor,
        verbose_name=_("vendor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_changes",
    )
    urgent = models.BooleanField(_("urgent"), default=False)

    # Assessment.
    chargeable = models.BooleanField(_("chargeable"), null=True, blank=True)
    effort_hours = models.DecimalField(
        _("effort estimate (hours)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    feasibility = models.TextField(_("feasibility"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    risk = models.TextField(_("risk"), blank=True)
    resources = models.TextField(_("required resources"), blank=True)

    # Approval: each request for approval starts a round; links carry it, so a link from
    # an earlier round (or used already: the CR left "awaiting approval") does nothing.
    approval_round = models.PositiveIntegerField(default=0, editable=False)
    approval_requested_at = models.DateTimeField(
        _("approval requested"), null=True, blank=True, editable=False
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    # Schedule, test and review.
    scheduled_for = models.DateField(_("scheduled for"), null=True, blank=True)
    test_outcome = models.TextField(_("test / UAT outcome"), blank=True)
    kpis_met = models.BooleanField(_("KPIs met"), null=True, blank=True)
    lessons_learned = models.TextField(_("lessons learned"), blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["stage", "requested_at"], name="change_stage_requested"),
            models.Index(fields=["organisation", "stage"], name="change_org_stage"),
            models.Index(fields=["requester", "stage"], name="change_requester_stage"),
            models.Index(fields=["assignee", "stage"], name="change_assignee_stage"),
        ]
        constraints = [
            models.CheckConstraint(
                name="change_effort_not_negative",
                condition=Q(effort_hours__isnull=True) | Q(effort_hours__gte=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        """The number as people write it: ``CR-1042``."""
        return f"{settings.SERVICEDESK_CHANGE_PREFIX}-{self.number}"

    @property
    def facts(self) -> workflow.Facts:
        return workflow.Facts(
            has_estimate=self.effort_hours is not None,
            chargeable_decided=self.chargeable is not None,
            approved=self.decision == Decision.APPROVED,
            reviewed=self.kpis_met is not None,
        )


class PlanStep(models.Model):
    """One step of a CR's implementation plan: what, by when, by whom."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("step"), max_length=500)
    due_on = models.DateField(_("date"), null=True, blank=True)
    responsible = models.CharField(_("responsible"), max_length=200, blank=True)
    done = models.BooleanField(_("done"), default=False)

    class Meta:
        verbose_name = _("plan step")
        verbose_name_plural = _("implementation plan")
        ordering = ["change", "position"]
        constraints = [
            models.UniqueConstraint(fields=["change", "position"], name="unique_step_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description}"


class ChangeEventKind(models.TextChoices):
    CREATED = "change_created", _("Change request opened")
    CONVERTED = "change_converted", _("Opened from a ticket")
    STAGE = "change_stage", _("Stage changed")
    FIELD = "change_field", _("Field changed")
    PLAN = "change_plan", _("Implementation plan changed")
    APPROVAL_REQUESTED = "change_approval_asked", _("Approval requested")
    DECIDED = "change_decided", _("Decision recorded")
    URGENT = "change_urgent", _("Marked urgent")


class ChangeEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ChangeEventQuerySet":
        return self.filter(change__in=ChangeRequest.objects.visible_to(user).values("pk"))


class ChangeEvent(models.Model):
    """One fact in a CR's history: who changed what, when, from what, to what (JSON values,
    so the history reads right after the objects change)."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for the desk's own automation."),
    )
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=25, choices=ChangeEventKind.choices)
    field = models.CharField(_("field"), max_length=50, blank=True)
    old = models.JSONField(_("from"), null=True, blank=True)
    new = models.JSONField(_("to"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = ChangeEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("change request event")
        verbose_name_plural = _("change request history")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["change", "at"], name="change_event_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field}".strip()


class MonthlyReport(models.Model):
    """One organisation's Change Request Update report of one month, as sent: the record
    that makes the monthly job idempotent (one per organisation and month)."""

    kind = "change_report"  # published to the subscribers like an event (the report mail)

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("month"), help_text=_("The 1st of the report's month."))
    created_at = models.DateTimeField(_("sent"))
    changes = models.JSONField(_("change requests"), default=list)  # their numbers
    recipients = models.JSONField(_("recipients"), default=list)  # the administrators' ids

    class Meta:
        verbose_name = _("change request update report")
        verbose_name_plural = _("change request update reports")
        ordering = ["-month", "organisation"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "month"], name="one_change_report_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.month:%Y-%m}"
