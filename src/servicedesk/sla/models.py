"""Service levels (SPEC §5): calendars, policies, and the clocks each ticket runs.

The arithmetic lives in the pure modules ``calendar.py`` and ``clock.py``; these models hold
the configuration and the facts (when a clock started, is due, was met, warned, breached).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group, Organisation
from servicedesk.tickets.models import Product, Ticket

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class Calendar(models.Model):
    """Business hours: weekly opening hours, a time zone, public holidays and closures."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64)
    holiday_country = models.CharField(
        _("public holidays of"), max_length=2, blank=True, help_text=_("ISO country code, e.g. GB")
    )
    holiday_subdivision = models.CharField(
        _("subdivision"), max_length=10, blank=True, help_text=_("e.g. ENG for England")
    )

    class Meta:
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening interval on one weekday; a day may have several. 00:00 as the end means
    midnight at the end of the day."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """A custom closure of the desk: one date or a range of dates (inclusive)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closures")
    name = models.CharField(_("name"), max_length=100)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to (inclusive)"))

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                name="closure_dates_in_order", condition=Q(end_date__gte=models.F("start_date"))
            )
        ]

    def __str__(self) -> str:
        return self.name


class Policy(models.Model):
    """Targets per priority on a calendar; for everyone (the default), an organisation's
    contract, a product, or both. The most specific policy wins."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, verbose_name=_("calendar"))
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        verbose_name=_("organisation"),
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("product")
    )
    is_default = models.BooleanField(_("default policy"), default=False)
    warning_percent = models.PositiveSmallIntegerField(
        # Translators: xgettext:no-python-format
        _("warn at (% of target)"),
        default=80,
        help_text=_("Warn when this share of the target has passed."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            ),
            models.CheckConstraint(
                name="warning_percent_in_range",
                condition=Q(warning_percent__gte=1, warning_percent__lte=99),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyTarget(models.Model):
    """The targets for one priority. A target may run on its own calendar (Critical on 24×7)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=30)
    first_response = models.DurationField(_("first response within"), null=True, blank=True)
    follow_up = models.DurationField(_("next update every"), null=True, blank=True)
    resolution = models.DurationField(_("resolution within"), null=True, blank=True)
    calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("calendar"),
        help_text=_("Leave empty to use the policy's calendar."),
    )

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="one_target_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.priority}"


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_UPDATE = "next_update", _("Next update")
    RESOLUTION = "resolution", _("Resolution")
    OLA = "ola", _("Internal response (OLA)")


# The desk's own targets: measured like the others, never shown or told to the customer.
INTERNAL_KINDS = frozenset({ClockKind.OLA})


class PauseReason(models.TextChoices):
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved, awaiting confirmation")


class Pause(models.Model):
    """A span in which a ticket's clocks stood still. Waiting on the customer pauses every
    clock; the time spent resolved pauses the resolution clock if the ticket re-opens."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_pauses")
    reason = models.CharField(max_length=20, choices=PauseReason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["ticket", "started_at"], name="pause_ticket_started")]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_open_pause"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} from {self.started_at:%Y-%m-%d %H:%M}"


class TicketClock(models.Model):
    """One SLA clock of one ticket: when it started, when it is due, and what became of it.

    A next-update clock is one cycle: each public reply by the desk meets it and starts the
    next. ``due_at`` is empty while the clock is paused. ``warned_at`` and ``breached_at`` are
    set once, by guarded updates, so a sweep run twice records nothing twice. An OLA clock
    (``group`` set) runs from an internal escalation until a member of that group acts; the
    customer never sees it (``INTERNAL_KINDS``).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    policy = models.ForeignKey(Policy, null=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(Calendar, null=True, on_delete=models.SET_NULL, related_name="+")
    target = models.DurationField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped = models.BooleanField(
        default=False, help_text="Ended without being met (e.g. closed unanswered)."
    )
    group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An OLA clock: the group that owes the internal response.",
    )
    own_target = models.BooleanField(
        default=False,
        help_text=(
            "The target is this clock's own (a group's OLA, a next update promised to the "
            "customer), not the policy's: a re-triage or a pause keeps it."
        ),
    )

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "kind"], name="clock_ticket_kind"),
            # The sweeps read only these: clocks still running whose moment has come.
            models.Index(
                fields=["due_at"],
                name="clock_due_running",
                condition=Q(
                    met_at__isnull=True,
                    breached_at__isnull=True,
                    stopped=False,
                    due_at__isnull=False,
                ),
            ),
            models.Index(
                fields=["warn_at"],
                name="clock_warn_running",
                condition=Q(
                    met_at__isnull=True,
                    warned_at__isnull=True,
                    stopped=False,
                    warn_at__isnull=False,
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of ticket {self.ticket_id}"
