"""The outbox: every email the desk sends is first a row here, written in the same
transaction as the change that causes it. A task sends it, with retries."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed for good")


class OutboxMessage(models.Model):
    """An email waiting to go, going, or gone.

    ``dedupe_key`` makes a notification idempotent: the same key is queued once, however
    often the sweep that causes it runs.
    """

    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    to = models.JSONField(_("to"))
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=250, blank=True, db_index=True)
    # Ids of ticket attachments whose files go with the message (read when it is sent), and
    # files made for it ({"filename", "content_type", "base64"}: a report's PDF).
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outbox")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class Outcome(models.TextChoices):
    RECEIVED = "received", _("Stored, not yet processed")
    CREATED = "created", _("Opened a ticket")
    REPLIED = "replied", _("Added to a ticket")
    BOUNCED = "bounced", _("Bounce")
    IGNORED = "ignored", _("Ignored (automatic mail or loop)")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundMessage(models.Model):
    """Every message that came in, raw, stored before anything else is done with it.

    ``fingerprint`` is a digest of the Message-ID and of the content (not the transport
    headers): a re-delivery of the same message is recognised, while a different message that
    reuses a Message-ID is kept as its own.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True, db_index=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"))
    source = models.CharField(_("source"), max_length=200)
    received_at = models.DateTimeField(_("received"))
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML (sanitised)"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    reason = models.TextField(_("reason"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    comment = models.ForeignKey(
        "tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("incoming email")
        verbose_name_plural = _("inbox")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["sender", "received_at"], name="inbound_sender_recent"),
            models.Index(fields=["outcome", "received_at"], name="inbound_outcome"),
            models.Index(
                fields=["received_at"],
                name="inbound_unprocessed",
                condition=Q(outcome="received"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"


class Security(models.TextChoices):
    SSL = "ssl", _("TLS (IMAPS)")
    STARTTLS = "starttls", _("STARTTLS")
    PLAIN = "plain", _("None (local test servers only)")


class Login(models.TextChoices):
    PASSWORD = "password", _("Password")
    XOAUTH2 = "xoauth2", _("OAuth 2 (XOAUTH2)")


class Mailbox(models.Model):
    """An IMAP mailbox the desk polls. The secret (password or OAuth 2 access token) is never
    stored here: ``secret_env`` names the environment variable that holds it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("host"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    login = models.CharField(
        _("login"), max_length=10, choices=Login.choices, default=Login.PASSWORD
    )
    username = models.CharField(_("user name"), max_length=254)
    secret_env = models.CharField(
        _("secret variable"),
        max_length=100,
        help_text=_("The environment variable holding the password or the OAuth 2 access token."),
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    move_to = models.CharField(
        _("move processed mail to"),
        max_length=200,
        blank=True,
        help_text=_("A folder on the server; empty: processed mail is only marked as read."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
