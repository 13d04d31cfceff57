"""A change request's assessment in words, in the reader's language: the one way the mails,
the report (HTML, text, PDF), the portal and the desk say whether it is chargeable and what
effort it is estimated at."""

from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import gettext as _


def chargeable_words(value: bool | None) -> str:
    """Yes, no, or not decided yet."""
    if value is None:
        return _("Not decided yet")
    return _("Yes") if value else _("No")


def hours_words(value: Decimal | str | None) -> str:
    """An effort estimate as the reader writes numbers ("12.5 h", "12,5 h"), or not
    estimated yet."""
    if value is None or value == "":
        return _("Not estimated yet")
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return _("%(hours)s h") % {"hours": formats.number_format(hours, 1)}
