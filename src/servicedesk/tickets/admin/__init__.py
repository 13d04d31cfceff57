"""The tickets app in the admin, one module per concern; importing this registers them all.

``tickets``: the list, the ticket's page and the bulk actions (``thread``: its thread, files
and history); ``catalogue``: products and categories; ``bands``: the priority bands.
"""

from servicedesk.tickets.admin import bands, catalogue, tickets  # noqa: F401
