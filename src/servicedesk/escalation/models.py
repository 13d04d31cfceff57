"""Escalations (SPEC §6): a ticket handed up a support level or out to a vendor, with the
desk keeping ownership; and the vendor releases that fix confirmed bugs.

State changes go through ``services.py``; reads through ``selectors.py``. Escalations are
the desk's working notes on the case (vendor names, their references, reasons): staff only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group, SupportLevel, Vendor
from servicedesk.tickets.models import Ticket


class EscalationKind(models.TextChoices):
    INTERNAL = "internal", _("Internal (support level)")
    VENDOR = "vendor", _("Vendor or third party")


class VendorChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Vendor's portal")
    OTHER = "other", _("Other")


class Contract(models.TextChoices):
    CONTRACT = "contract", _("Under the maintenance contract")
    QUOTE = "quote", _("Needs a quote")


class Release(models.Model):
    """A vendor's release that fixes (or will fix) confirmed bugs."""

    vendor = models.ForeignKey(
        Vendor, on_delete=models.PROTECT, related_name="releases", verbose_name=_("vendor")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 10.3.2 or 2026 wave 1"))
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["vendor", "name"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="unique_release_per_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} {self.name}"


class EscalationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EscalationQuerySet":
        """Staff see every escalation; customers none (they hear of them by the desk's update)."""
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
            return self.none()
        return self

    def open(self) -> "EscalationQuerySet":
        return self.filter(closed_at=None)


class Escalation(models.Model):
    """One escalation of a ticket: internal (to a support level's group) or to a vendor.

    It stays open until the ticket comes back down (internal) or the vendor's part is done
    (``closed_at``). For a vendor: their reference, contact, the channel used, the date they
    promised an answer by, what was sent, and when they first answered.
    """

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EscalationKind.choices)
    reason = models.TextField(_("reason"))

    # Internal: between support levels.
    from_level = models.CharField(
        _("from level"), max_length=2, choices=SupportLevel.choices, blank=True
    )
    to_level = models.CharField(
        _("to level"), max_length=2, choices=SupportLevel.choices, blank=True
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("receiving group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # To a vendor or third party.
    vendor = models.ForeignKey(
        Vendor,
        verbose_name=_("vendor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    vendor_reference = models.CharField(_("vendor's reference"), max_length=100, blank=True)
    vendor_contact = models.CharField(_("vendor contact"), max_length=200, blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=VendorChannel.choices, blank=True
    )
    promised_by = models.DateTimeField(_("answer promised by"), null=True, blank=True)
    sent_items = models.JSONField(
        _("sent to the vendor"),
        default=dict,
        blank=True,
        help_text=_(
            "The thread entries and attachments sent: {'comments': [ids], 'attachments': [ids]}."
        ),
    )
    contract = models.CharField(_("contract"), max_length=10, choices=Contract.choices, blank=True)
    vendor_bug_reference = models.CharField(_("vendor's bug reference"), max_length=100, blank=True)
    fix_release = models.ForeignKey(
        Release,
        verbose_name=_("fixed in release"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )

    # The customer is told of each escalation unless the agent says why not.
    notify_customer = models.BooleanField(_("tell the customer"), default=True)
    no_notice_reason = models.TextField(_("why the customer is not told"), blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("escalated"))
    answered_at = models.DateTimeField(_("vendor's first answer"), null=True, blank=True)
    # Set once by the promise sweep when promised_by passed without an answer (its guard).
    overdue_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("ended"), null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="escalation_ticket_created"),
            models.Index(fields=["vendor", "created_at"], name="escalation_vendor_created"),
            # The promise sweep reads only the vendor escalations still awaiting an answer.
            models.Index(
                fields=["promised_by"],
                name="escalation_promise_due",
                condition=Q(
                    answered_at__isnull=True,
                    closed_at__isnull=True,
                    overdue_recorded_at__isnull=True,
                    promised_by__isnull=False,
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="escalation_kind_fields",
                condition=(
                    Q(kind="internal", vendor__isnull=True, group__isnull=False) & ~Q(to_level="")
                )
                | Q(kind="vendor", vendor__isnull=False, group__isnull=True, to_level=""),
            ),
            models.CheckConstraint(
                name="escalation_notice_or_reason",
                condition=Q(notify_customer=True) | ~Q(no_notice_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.target}"

    @property
    def target(self) -> str:
        """Where the case went: the level (``L2``) or the vendor's name."""
        if self.kind == EscalationKind.INTERNAL:
            return self.to_level
        return self.vendor.name if self.vendor_id else ""

    def is_overdue(self, now) -> bool:
        """A vendor's promised date passed with no answer while the escalation is open."""
        return (
            self.kind == EscalationKind.VENDOR
            and self.promised_by is not None
            and self.answered_at is None
            and self.closed_at is None
            and self.promised_by <= now
        )


class Direction(models.TextChoices):
    OUT = "out", _("Sent to the vendor")
    IN = "in", _("From the vendor")


class VendorMessage(models.Model):
    """One message of a vendor escalation's own thread: sent to the vendor or received from
    them by email. Never part of the customer's thread (staff only, like the escalation)."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("escalation")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    sender = models.CharField(_("from"), max_length=254, blank=True)  # the vendor's address
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    message_id = models.CharField(max_length=255, blank=True, db_index=True)  # for threading
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("message with the vendor")
        verbose_name_plural = _("messages with the vendor")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"
