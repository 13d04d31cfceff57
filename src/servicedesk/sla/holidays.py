"""Public holidays from the maintained ``holidays`` library (SPEC §5). Pure: no Django.

The dates feed a calendar's ``closed_dates``. Substitute days are included ("Boxing Day
(observed)" on Monday 28 December 2026), because the desk is shut on them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays

from servicedesk.core.errors import gettext_noop
from servicedesk.sla.calendar import CalendarError


def public_holidays(country: str, subdivision: str | None, years: Iterable[int]) -> frozenset[date]:
    """The public holidays of ``country`` (ISO 3166-1 code, e.g. "GB", "NO", "FR") and optional
    ``subdivision`` (e.g. "ENG" for England's bank holidays) in ``years``.

    Codes are case-insensitive. Raises :class:`CalendarError` for a country or subdivision
    the library does not know.
    """
    code = country.strip().upper()
    supported = holidays.list_supported_countries()
    if code not in supported:
        raise CalendarError(
            gettext_noop("No public holidays are known for the country %(country)r."),
            country=country,
        )
    subdiv = None
    if subdivision:
        subdiv = subdivision.strip()
        if subdiv.upper() in supported[code]:
            subdiv = subdiv.upper()
    try:
        found = holidays.country_holidays(code, subdiv=subdiv, years=sorted(set(years)))
    except NotImplementedError as error:  # the library's "not available" for codes
        raise CalendarError(
            gettext_noop("No public holidays are known for %(subdivision)r in %(country)s."),
            subdivision=subdivision,
            country=code,
        ) from error
    return frozenset(found)
