"""The portal's own records: the status look-ups of people without an account, counted in
the database (not a per-process cache: several web workers must share the count)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatusLookup(models.Model):
    """One look-up at ``/status/``: when, from which client address, for which number.

    Rows older than the counting window are deleted by the look-ups that follow."""

    at = models.DateTimeField(_("when"))
    address = models.CharField(_("client address"), max_length=64, blank=True)
    number = models.PositiveBigIntegerField(_("ticket number"), null=True, blank=True)

    class Meta:
        verbose_name = _("status look-up")
        verbose_name_plural = _("status look-ups")
        indexes = [
            models.Index(fields=["address", "at"], name="status_lookup_address"),
            models.Index(fields=["number", "at"], name="status_lookup_number"),
            models.Index(fields=["at"], name="status_lookup_at"),
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.number} {self.at:%Y-%m-%d %H:%M}"
