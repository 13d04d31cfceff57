"""What the desk keeps of its own: who has a ticket open (the collision notice) and the
agents' saved filters. No ticket data: that is the tickets app's."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Presence(models.Model):
    """An agent with a ticket open, as of their page's last poll; ``typing_at``: when they
    last typed in the composer."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()
    typing_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="presence_once_per_agent")
        ]
        indexes = [models.Index(fields=["ticket", "seen_at"], name="presence_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.ticket_id}"


class SavedFilter(models.Model):
    """A queue filter an agent named: their own, or shared with every agent."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filter"), max_length=1000)  # the queue page's query string
    shared = models.BooleanField(_("shared with every agent"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Macro(models.Model):
    """A canned reply. Placeholders filled from the ticket when inserted: {requester_name},
    {ticket} (its reference), {subject}, {due} (the nearest due time, in the reader's zone),
    {agent} (who inserts it)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
