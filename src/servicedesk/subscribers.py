"""THE reactions to recorded facts: who is told what when events are recorded.

Services record a change's events and publish them (``core.events.publish``) inside the
change's transaction; each subscriber below gets the events of the kinds it names (all of
them when ``kinds`` is None) and writes its outbox or delivery rows in that same
transaction, so a rolled-back change sends nothing. The domain (accounts, tickets, sla)
never imports a channel: the arrows point from the channels to the facts, through this list.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Subscriber:
    name: str
    kinds: frozenset[str] | None  # the event kinds it reacts to; None: every kind
    handler: str  # dotted path of ``handler(events, hints)``


SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        "acknowledgement-mail",
        frozenset({"created"}),
        "servicedesk.mail.notifications.acknowledge_new_ticket",
    ),
    Subscriber(
        "public-reply-mail",
        frozenset({"reply"}),
        "servicedesk.mail.notifications.mail_public_reply",
    ),
    Subscriber(
        "triage-confirmed-mail",
        frozenset({"triage"}),
        "servicedesk.mail.notifications.mail_confirmed_triage",
    ),
    Subscriber(
        "sla-alert-mail",
        frozenset({"sla_warning", "sla_breach"}),
        "servicedesk.mail.notifications.mail_sla_alert",
    ),
    Subscriber(
        "resolution-mail",
        frozenset({"status"}),
        "servicedesk.mail.closing.mail_resolution",
    ),
    Subscriber(
        "closing-reminder-mail",
        frozenset({"closing_reminder"}),
        "servicedesk.mail.closing.mail_closing_reminder",
    ),
    Subscriber(
        "auto-closed-mail",
        frozenset({"auto_closed"}),
        "servicedesk.mail.closing.mail_auto_closed",
    ),
    Subscriber(
        "vendor-escalation-mail",
        frozenset({"escalated"}),
        "servicedesk.mail.vendors.mail_vendor_escalation",
    ),
    Subscriber(
        "vendor-message-mail",
        frozenset({"vendor_message"}),
        "servicedesk.mail.vendors.mail_vendor_message",
    ),
    Subscriber(
        "vendor-overdue-mail",
        frozenset({"vendor_overdue"}),
        "servicedesk.mail.vendors.mail_vendor_overdue",
    ),
    Subscriber(
        "escalation-received-mail",
        frozenset({"escalated"}),
        "servicedesk.mail.vendors.mail_receiving_group",
    ),
    Subscriber(
        "escalation-update-mail",
        frozenset({"escalated", "de_escalated"}),
        "servicedesk.mail.escalation_updates.mail_escalation_update",
    ),
    Subscriber(
        "change-converted-mail",
        frozenset({"converted"}),
        "servicedesk.mail.changes.mail_conversion",
    ),
    Subscriber(
        "change-approval-mail",
        frozenset({"change_approval_asked"}),
        "servicedesk.mail.changes.mail_approval_request",
    ),
    Subscriber(
        "change-urgent-mail",
        frozenset({"change_urgent"}),
        "servicedesk.mail.changes.mail_urgent",
    ),
    Subscriber(
        "change-decision-mail",
        frozenset({"change_decided"}),
        "servicedesk.mail.changes.mail_decision",
    ),
    Subscriber(
        "change-report-mail",
        frozenset({"change_report"}),
        "servicedesk.mail.changes.mail_report",
    ),
    Subscriber("webhooks", None, "servicedesk.api.webhooks.on_events"),
    Subscriber(
        "search-index",
        frozenset({"created", "reply", "note", "field"}),
        "servicedesk.search.index.on_events",
    ),
)
