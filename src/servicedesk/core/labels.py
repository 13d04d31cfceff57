"""Names the desk ships in its own rows, shown in the reader's language.

The priority bands (``tickets.triage``: S4, and S1's other names), the three support groups
(``tickets`` migration 0002) and the demo's categories are rows with English names. They are
translated when shown, never when stored: the rows, the history and the API's keys keep the
English. A name an administrator typed is shown as typed, even when it is an English word the
catalogue knows ("Open" as a category stays "Open").
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

SHIPPED = {
    # Priority bands: a priority's name ("priority High"), hence the context.
    "Low": pgettext_lazy("priority", "Low"),
    "Medium": pgettext_lazy("priority", "Medium"),
    "High": pgettext_lazy("priority", "High"),
    "Critical": pgettext_lazy("priority", "Critical"),
    "Immediate": pgettext_lazy("priority", "Immediate"),
    # Support groups (levels 1 to 3).
    "First line": pgettext_lazy("support group", "First line"),
    "CRM specialists": pgettext_lazy("support group", "CRM specialists"),
    "Development": pgettext_lazy("support group", "Development"),
    # Categories, named as their kinds (``tickets.models.CategoryKind``).
    "Incident": _("Incident"),
    "Bug": _("Bug"),
    "Question / how-to": _("Question / how-to"),
    "Configuration": _("Configuration"),
    "Change request": _("Change request"),
    "Finance query": _("Finance query"),
}


def shown(name: str) -> str:
    """``name`` in the active language if the desk shipped it, else as it is."""
    label = SHIPPED.get(name)
    return name if label is None else str(label)
