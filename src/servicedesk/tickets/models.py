"""Tickets (SPEC §3): the ticket, its thread, attachments, links and history.

State changes go through ``services.py``; reads start from ``visible_to(user)``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group, Organisation, Vendor
from servicedesk.tickets import references
from servicedesk.tickets.workflow import ACTIVE, Status


class StatusChoices(models.TextChoices):
    NEW = Status.NEW, _("New")
    OPEN = Status.OPEN, _("Open")
    IN_PROGRESS = Status.IN_PROGRESS, _("In progress")
    WAITING_ON_CUSTOMER = Status.WAITING_ON_CUSTOMER, _("Waiting on customer")
    WAITING_ON_THIRD_PARTY = Status.WAITING_ON_THIRD_PARTY, _("Waiting on third party")
    RESOLVED = Status.RESOLVED, _("Resolved")
    CLOSED = Status.CLOSED, _("Closed")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    DESK = "desk", _("Desk")  # typed by staff at the desk (the admin, later /desk/)


class CategoryKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    BUG = "bug", _("Bug")
    QUESTION = "question", _("Question / how-to")
    CONFIGURATION = "configuration", _("Configuration")
    CHANGE_REQUEST = "change_request", _("Change request")
    FINANCE_QUERY = "finance_query", _("Finance query")


URGENCY_CHOICES = [
    (1, _("1 Low — no immediate impact")),
    (2, _("2 Medium — immediate impact, workaround")),
    (3, _("3 High — immediate impact, no workaround")),
    (4, _("4 Imperative — business critical")),
]
IMPACT_CHOICES = [
    (1, _("1 Individual")),
    (2, _("2 Minor — team or department")),
    (3, _("3 Significant — business area")),
    (4, _("4 Major — group")),
]


class Product(models.Model):
    """A piece of software the desk supports (Dynamics 365, SuperOffice, GoldMine…)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    vendor = models.ForeignKey(
        Vendor,
        verbose_name=_("vendor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("The software owner: bugs and standard change requests go there."),
    )
    default_group = models.ForeignKey(
        Group,
        verbose_name=_("default group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Route new tickets about this product here instead of first line."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """What kind of request a ticket is. The kind drives routing (finance → account manager)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CategoryKind.choices)
    default_group = models.ForeignKey(
        Group,
        verbose_name=_("default group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Route new tickets of this category here instead of first line."),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PriorityBand(models.Model):
    """Configuration: triage scores ``min_score``..``max_score`` give this priority."""

    key = models.SlugField(_("key"), max_length=30, unique=True)
    label = models.CharField(_("label"), max_length=50)
    min_score = models.PositiveSmallIntegerField(_("lowest score"))
    max_score = models.PositiveSmallIntegerField(_("highest score"))

    class Meta:
        verbose_name = _("priority band")
        verbose_name_plural = _("priority bands")
        ordering = ["min_score"]

    def __str__(self) -> str:
        return f"{self.label} ({self.min_score}–{self.max_score})"


class NumberSequence(models.Model):
    """The last ticket number handed out. One row, bumped inside the creating transaction."""

    name = models.CharField(max_length=30, unique=True)
    last_value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TicketQuerySet":
        """The tickets ``user`` may see: staff all, loggers and admins their organisation's,
        end users their own, anyone else none."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self
        if user.sees_whole_organisation and user.organisation_id:
            return self.filter(Q(organisation_id=user.organisation_id) | Q(requester_id=user.pk))
        return self.filter(requester_id=user.pk)

    def active(self) -> "TicketQuerySet":
        return self.filter(status__in=[s.value for s in ACTIVE])


class Ticket(models.Model):
    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT
    )
    subject = models.CharField(_("subject"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    steps_to_reproduce = models.TextField(_("steps to reproduce"), blank=True)
    users_affected = models.PositiveIntegerField(
        _("number of users affected"), null=True, blank=True
    )
    present_since = models.DateField(_("present since"), null=True, blank=True)
    investigations_done = models.TextField(_("investigations already done"), blank=True)
    business_impact = models.TextField(_("business impact"), blank=True)
    cc = models.JSONField(
        _("copied"), default=list, blank=True, help_text=_("Addresses copied on public replies.")
    )

    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    status = models.CharField(
        _("status"), max_length=25, choices=StatusChoices.choices, default=StatusChoices.NEW
    )

    # Triage: the customer's proposal and the desk's confirmation are both kept.
    proposed_urgency = models.PositiveSmallIntegerField(
        _("proposed urgency"), null=True, blank=True, choices=URGENCY_CHOICES
    )
    proposed_impact = models.PositiveSmallIntegerField(
        _("proposed impact"), null=True, blank=True, choices=IMPACT_CHOICES
    )
    confirmed_urgency = models.PositiveSmallIntegerField(
        _("confirmed urgency"), null=True, blank=True, choices=URGENCY_CHOICES
    )
    confirmed_impact = models.PositiveSmallIntegerField(
        _("confirmed impact"), null=True, blank=True, choices=IMPACT_CHOICES
    )
    # The score and priority in force: the confirmed ones, else the proposed ones.
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=30, blank=True)

    # Where an imported ticket came from (another desk's id): imports are idempotent by it.
    external_id = models.CharField(
        _("external id"), max_length=100, null=True, blank=True, unique=True, editable=False
    )
    # The nearest due time of the ticket's running SLA clocks (kept by the SLA services),
    # so lists can put what is due first without reading every clock.
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Set when the desk resolves the ticket (not by an import): the closing loop's start.
    confirmation_asked_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "priority"], name="ticket_status_priority"),
            models.Index(fields=["organisation", "status"], name="ticket_org_status"),
            models.Index(fields=["requester", "status"], name="ticket_requester_status"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["group", "status"], name="ticket_group_status"),
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["sla_due_at", "number"], name="ticket_sla_due"),
            # an organisation's newest tickets (the desk's "other open tickets" panel)
            models.Index(fields=["organisation", "-created_at"], name="ticket_org_newest"),
            models.Index(
                fields=["confirmation_asked_at"],
                name="ticket_awaiting_confirmation",
                condition=Q(confirmation_asked_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="ticket_score_in_range",
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=16),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        """The number as people write it: ``SD-10042``."""
        return references.format_reference(self.number, settings.SERVICEDESK_TICKET_PREFIX)

    @property
    def subject_token(self) -> str:
        """The token that ties an email to this ticket: ``[SD#10042]``."""
        return references.format_subject_token(self.number, settings.SERVICEDESK_TICKET_PREFIX)

    @property
    def proposed_triage(self) -> tuple[int, int] | None:
        if self.proposed_urgency and self.proposed_impact:
            return (self.proposed_urgency, self.proposed_impact)
        return None

    @property
    def confirmed_triage(self) -> tuple[int, int] | None:
        if self.confirmed_urgency and self.confirmed_impact:
            return (self.confirmed_urgency, self.confirmed_impact)
        return None


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CommentQuerySet":
        """Comments on tickets ``user`` may see; customers never see internal notes."""
        visible = self.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))
        if user is not None and user.is_authenticated and not user.is_staff:
            visible = visible.filter(internal=False)
        return visible


class Comment(models.Model):
    """One entry of a ticket's thread: a public reply, or an internal note (staff only)."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="comments", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("body"))
    folded = models.TextField(
        _("quoted text and signature"), blank=True, help_text=_("Folded away when shown.")
    )
    internal = models.BooleanField(_("internal note"), default=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(_("created"))

    objects = CommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="comment_ticket_created")]

    def __str__(self) -> str:
        kind = _("Note") if self.internal else _("Reply")
        return f"{kind} #{self.pk} on {self.ticket_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name never reuses the uploader's file name: it is kept in ``filename``.
    return f"attachments/{instance.ticket_id}/{instance.created_at:%Y%m}/{instance.token}"


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AttachmentQuerySet":
        """Attachments of tickets ``user`` may see, minus those on notes for customers."""
        visible = self.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))
        if user is not None and user.is_authenticated and not user.is_staff:
            visible = visible.filter(Q(comment__isnull=True) | Q(comment__internal=False))
        return visible


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    comment = models.ForeignKey(
        Comment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("comment"),
    )
    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created"))

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related to")
    DUPLICATE_OF = "duplicate_of", _("Duplicate of")
    CHILD_OF = "child_of", _("Part of (parent)")


class TicketLink(models.Model):
    """A directed link: ``source`` is <kind> ``target`` (e.g. a duplicate of it)."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("kind"), max_length=20, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="unique_ticket_link"),
            models.CheckConstraint(name="no_link_to_self", condition=~Q(source=models.F("target"))),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    TRIAGE = "triage", _("Triaged")
    ASSIGNEE = "assignee", _("Assignee changed")
    GROUP = "group", _("Group changed")
    FIELD = "field", _("Field changed")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    ATTACHMENT = "attachment", _("Attachment added")
    LINK = "link", _("Linked")
    UNLINK = "unlink", _("Link removed")
    SLA_MET = "sla_met", _("SLA target met")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    CLOSING_REMINDER = "closing_reminder", _("Reminder to confirm the resolution")
    AUTO_CLOSED = "auto_closed", _("Closed automatically")
    RATED = "rated", _("Rated")
    ESCALATED = "escalated", _("Escalated")
    DE_ESCALATED = "de_escalated", _("De-escalated")
    VENDOR_ANSWER = "vendor_answer", _("Vendor answered")
    VENDOR_OVERDUE = "vendor_overdue", _("Vendor answer overdue")
    VENDOR_MESSAGE = "vendor_message", _("Message with the vendor")
    CONVERTED = "converted", _("Converted to a change request")


class EventQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EventQuerySet":
        """Events of tickets ``user`` may see; customers never see internal ones (notes and
        the files attached to them)."""
        visible = self.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))
        if user is not None and user.is_authenticated and not user.is_staff:
            visible = visible.filter(internal=False)
        return visible


class Event(models.Model):
    """One fact in a ticket's history: who changed what, when, from what, to what.

    ``field`` names the changed attribute; ``old`` and ``new`` are JSON values (ids and
    display names for relations) so the history reads right after the objects change.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for the desk's own automation."),
    )
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    field = models.CharField(_("field"), max_length=50, blank=True)
    old = models.JSONField(_("from"), null=True, blank=True)
    new = models.JSONField(_("to"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    internal = models.BooleanField(
        _("internal"),
        default=False,
        help_text=_("About an internal note or its files: staff only."),
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("history")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="event_ticket_at"),
            models.Index(fields=["kind", "at"], name="event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field}".strip()


class RatingValue(models.TextChoices):
    GOOD = "good", _("Good")
    BAD = "bad", _("Bad")


class RatingQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RatingQuerySet":
        """Staff see every rating; a customer their own, on tickets they may still see."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(by=user, ticket__in=Ticket.objects.visible_to(user).values("pk"))


class Rating(models.Model):
    """A customer's satisfaction with how a ticket was handled (SPEC §8): good or bad, with
    an optional comment. One per ticket and person; rating again replaces it."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("ticket")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rated by"),
    )
    value = models.CharField(_("rating"), max_length=4, choices=RatingValue.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated"))

    objects = RatingQuerySet.as_manager()

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "by"], name="one_rating_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_value_display()} ({self.ticket_id})"
