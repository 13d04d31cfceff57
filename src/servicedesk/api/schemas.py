"""What the API accepts and answers. Pydantic models via Ninja; OpenAPI is made from these."""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, StrictInt, StringConstraints, create_model

from servicedesk.accounts.models import CustomerRole, SupportLevel
from servicedesk.api.models import WebhookEvent
from servicedesk.escalation.models import Contract, VendorChannel
from servicedesk.tickets.models import CategoryKind, Channel, LinkKind
from servicedesk.tickets.views import MIME_TYPE
from servicedesk.tickets.workflow import Status

Level = Annotated[int, Field(ge=1, le=4)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # a database id: larger ones cannot exist
Text = Annotated[str, StringConstraints(max_length=100_000)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]


def storable(value: datetime) -> bool:
    """Whether ``value`` is an instant the database can hold: in UTC, within years 1 to 9999.

    ``0001-01-01T00:00:00+14:00`` is a valid ISO date whose UTC falls in year 0; a naive one
    is read in the default time zone, as Django reads it."""
    zone = value.tzinfo or timezone.get_default_timezone()
    try:
        value.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return False
    return True


def _storable(value: datetime) -> datetime:
    if not storable(value):
        raise ValueError("outside the years 1 to 9999 once converted to UTC")
    return value


# Every date and time a request carries: one out of range is a 422 naming its field.
Instant = Annotated[datetime, AfterValidator(_storable)]


def _enum(name: str, values) -> type[StrEnum]:
    """An enum of the model's choices, so OpenAPI lists them and input is checked against them."""
    return StrEnum(name, {str(v).upper(): str(v) for v in values})  # type: ignore[return-value]


StatusName = _enum("StatusName", [s.value for s in Status])
ChannelName = _enum("ChannelName", Channel.values)
LinkKindName = _enum("LinkKindName", LinkKind.values)
CategoryKindName = _enum("CategoryKindName", CategoryKind.values)
LevelName = _enum("LevelName", SupportLevel.values)
RoleName = _enum("RoleName", CustomerRole.values)
EventName = _enum("EventName", WebhookEvent.values)
Language = Literal["en", "fr", "nb"]

# A ticket named in a body: its number, or its reference as people write it. One that names no
# ticket the caller may see is refused like an unknown number (404).
TicketName = Annotated[
    StrictInt | Annotated[str, StringConstraints(max_length=64)],
    Field(
        description="The ticket's number (10064) or reference (SD-10064).",
        examples=[10064, "SD-10064"],
    ),
]


class Error(Schema):
    code: str
    message: str
    errors: list[dict] | None = None


class Ref(Schema):
    id: int
    name: str


class Person(Schema):
    id: int
    email: str
    name: str


class Assessment(Schema):
    urgency: int
    impact: int
    score: int


class Triage(Schema):
    proposed: Assessment | None
    confirmed: Assessment | None


class SlaInterval(Schema):
    start: datetime
    end: datetime
    counted: str = Field(description="Business time counted in this interval (H:MM:SS).")
    total: str = Field(description="Business time counted so far (H:MM:SS).")


class SlaPause(Schema):
    start: datetime
    end: datetime | None


# "from" is a Python keyword: a field of that name only through create_model.
SlaRetriage = create_model(
    "SlaRetriage",
    __base__=Schema,
    __doc__="A re-triage that moved the priority while the clock ran.",
    at=(datetime, ...),
    to=(str | None, ...),
    **{"from": (str | None, ...)},
)


class SlaRecorded(Schema):
    what: Literal["warning", "breach"]
    at: datetime
    due: datetime | None = Field(description="The due time it was judged against then.")


class SlaClockExplained(Schema):
    """One clock, as ``servicedesk sla explain --json`` prints it (the same function builds
    both). A key added to that breakdown must be listed here to reach API clients."""

    model_config = ConfigDict(extra="allow")

    kind: str
    policy: str | None
    calendar: str | None
    timezone: str | None
    priority: str
    target: str = Field(description="Business time allowed (H:MM:SS or 'N days, H:MM:SS').")
    started_at: datetime
    due_at: datetime | None
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    stopped: bool
    state: Literal["ok", "warning", "breached", "met", "met_late", "stopped"]
    met_late: bool = Field(description="Met, but after its due time (met_at says when).")
    recorded: list[SlaRecorded] = Field(
        description="Warnings and breaches recorded, even under a target since re-triaged."
    )
    counted: list[SlaInterval]
    skipped_dates: list[date]
    pauses: list[SlaPause]
    retriage: list[SlaRetriage]  # type: ignore[valid-type]


class Sla(Schema):
    first_response_due: datetime | None
    next_update_due: datetime | None
    resolution_due: datetime | None
    paused: bool
    state: Literal["none", "ok", "warning", "breached", "met"]
    explain: list[SlaClockExplained] | None = Field(
        description="How each due time was reached (the breakdown of `servicedesk sla explain "
        "--json`): only when one ticket is read (GET /tickets/{number}); null in lists and in "
        "the answers to changes, which it would cost a few queries per ticket."
    )


class EscalationSummary(Schema):
    id: int
    kind: Literal["internal", "vendor"]
    target: str = Field(description="Where the case went: the level (L2) or the vendor's name.")
    reference: str = Field(description="The vendor's reference for the case.")
    promised_by: datetime | None = Field(description="When the vendor promised an answer.")
    overdue: bool = Field(description="The promised date passed with no answer (still open).")
    answered_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class TicketOut(Schema):
    number: int
    reference: str = Field(description="The number as people write it: SD-10064.")
    subject: str
    description: str
    status: StatusName
    channel: str
    priority: str
    score: int | None
    triage: Triage
    sla: Sla
    organisation: Ref | None
    requester: Person
    assignee: Person | None
    group: Ref | None
    product: Ref | None
    category: Ref | None
    cc: list[str]
    steps_to_reproduce: str
    users_affected: int | None
    present_since: date | None
    investigations_done: str
    business_impact: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    level: LevelName | None = Field(description="The support level of the ticket's group.")
    escalations: list[EscalationSummary] = Field(
        description="The ticket's escalations, oldest first (staff only: empty for customers)."
    )


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class TicketIn(Schema):
    subject: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    description: Text = ""
    urgency: Level | None = None
    impact: Level | None = None
    requester_email: Email | None = None
    requester_name: Annotated[str, StringConstraints(max_length=200)] = ""
    organisation: Id | None = None
    product: Id | None = None
    category: Id | None = None
    channel: ChannelName = ChannelName.API
    steps_to_reproduce: Text = ""
    users_affected: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    present_since: date | None = None
    investigations_done: Text = ""
    business_impact: Text = ""
    cc: Annotated[list[Email], Field(max_length=50)] = []


class TicketPatch(Schema):
    subject: Annotated[str, StringConstraints(min_length=1, max_length=250)] | None = None
    description: Text | None = None
    steps_to_reproduce: Text | None = None
    users_affected: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    present_since: date | None = None
    investigations_done: Text | None = None
    business_impact: Text | None = None
    product: Id | None = None
    category: Id | None = None
    organisation: Id | None = None


class AttachmentIn(Schema):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[
        str,
        StringConstraints(max_length=100, pattern=MIME_TYPE),
        Field(description="A MIME type (`text/plain`, with parameters if any)."),
    ] = "application/octet-stream"
    content_base64: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class ReplyIn(Schema):
    body: Text = ""
    internal: bool = False
    attachments: Annotated[list[AttachmentIn], Field(max_length=20)] = []


class ReplyOut(Schema):
    id: int
    body: str
    folded: str
    internal: bool
    channel: str
    author: Person | None
    created_at: datetime
    attachments: list[AttachmentOut]


class TriageIn(Schema):
    urgency: Level
    impact: Level


class StatusIn(Schema):
    status: StatusName
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class AssignmentIn(Schema):
    """Who has the ticket: ``assignee`` (a staff user's id, or null to take it back) and,
    when given, the ``group`` it moves to."""

    assignee: Id | None = None
    group: Id | None = None
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class LinkIn(Schema):
    ticket: TicketName
    kind: LinkKindName


class LinkOut(Schema):
    id: int
    kind: str
    direction: Literal["outgoing", "incoming"]
    ticket: int = Field(description="The other ticket's number.")
    reference: str = Field(description="The other ticket's reference: SD-10064.")
    created_at: datetime


class OrganisationIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email_domains: Annotated[list[str], Field(max_length=50)] = []
    timezone: Annotated[str, StringConstraints(max_length=64)] = "Europe/London"
    language: Language = "en"
    country: Annotated[str, StringConstraints(max_length=2)] = ""
    notes: Text = ""


class OrganisationOut(Schema):
    id: int
    name: str
    email_domains: list[str]
    timezone: str
    language: str
    country: str
    notes: str
    created_at: datetime


class ContactIn(Schema):
    email: Email
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    organisation: Id | None = None
    role: RoleName = RoleName.END_USER
    phone: Annotated[str, StringConstraints(max_length=50)] = ""
    language: Language | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None


class ContactOut(Schema):
    id: int
    email: str
    name: str
    organisation: int | None
    role: str
    phone: str
    language: str
    timezone: str
    is_active: bool


class ProductIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    vendor: Id | None = None
    default_group: Id | None = None
    is_active: bool = True


class ProductOut(Schema):
    id: int
    name: str
    vendor: int | None
    default_group: int | None
    is_active: bool


class CategoryIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    kind: CategoryKindName
    default_group: Id | None = None


class CategoryOut(Schema):
    id: int
    name: str
    kind: str
    default_group: int | None


class GroupIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    level: LevelName
    email: Email | Literal[""] = ""
    is_default_intake: bool = False


class GroupOut(Schema):
    id: int
    name: str
    level: str
    email: str
    is_default_intake: bool
    members: list[int]


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str
    holiday_country: str
    holiday_subdivision: str
    opening_hours: list[dict]


class PolicyTargetOut(Schema):
    priority: str
    first_response: str | None
    follow_up: str | None
    resolution: str | None


class PolicyOut(Schema):
    id: int
    name: str
    calendar: int
    organisation: int | None
    product: int | None
    is_default: bool
    warning_percent: int
    targets: list[PolicyTargetOut]


class TokenOut(Schema):
    prefix: str
    name: str
    user: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class WebhookIn(Schema):
    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s]+$")]
    events: Annotated[list[EventName], Field(min_length=1, max_length=10)]
    description: Annotated[str, StringConstraints(max_length=200)] = ""
    is_active: bool = True


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    is_active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret; shown only when the webhook is made.")


class DeliveryOut(Schema):
    id: int
    webhook: int
    message_id: str
    event: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime
    payload: dict


class ImportReply(Schema):
    author_email: Email
    body: Text
    internal: bool = False
    created_at: Instant


class ImportStatusChange(Schema):
    status: StatusName
    at: Instant


class ImportTicket(Schema):
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    description: Text = ""
    requester_email: Email
    requester_name: Annotated[str, StringConstraints(max_length=200)] = ""
    organisation: Id | None = None
    status: StatusName = StatusName.NEW
    urgency: Level | None = None
    impact: Level | None = None
    created_at: Instant
    updated_at: Instant | None = None
    thread: Annotated[list[ImportReply], Field(max_length=1000)] = []
    status_history: Annotated[list[ImportStatusChange], Field(max_length=1000)] = []


class ImportedTicket(Schema):
    external_id: str
    number: int
    reference: str
    created: bool


class ImportResult(Schema):
    created: int
    skipped: int
    tickets: list[ImportedTicket]


VendorChannelName = _enum("VendorChannelName", VendorChannel.values)
ContractName = _enum("ContractName", Contract.values)


class SentItems(Schema):
    comments: Annotated[list[Id], Field(max_length=200)] = []
    attachments: Annotated[list[Id], Field(max_length=200)] = []


class EscalationIn(Schema):
    """``internal``: up to ``level`` (to ``group``, or that level's receiving group).
    ``vendor``: out to ``vendor``, with their ``reference``, ``contact``, the ``channel`` used,
    the date they ``promised_by``, what was sent (``sent_items``: ids of the ticket's replies,
    notes and attachments) and the ``contract``. Either way a ``reason``; the customer is told
    unless ``notify_customer`` is false, with a ``no_notice_reason``; ``next_update_by``, the
    update the customer is told to expect (else the vendor's ``promised_by``), sets the
    next-update clock."""

    kind: Literal["internal", "vendor"]
    reason: Annotated[str, StringConstraints(max_length=2000)]
    level: LevelName | None = None
    group: Id | None = None
    vendor: Id | None = None
    reference: Annotated[str, StringConstraints(max_length=100)] = ""
    contact: Annotated[str, StringConstraints(max_length=200)] = ""
    channel: VendorChannelName = VendorChannelName.EMAIL
    promised_by: Instant | None = None
    next_update_by: Instant | None = Field(
        default=None,
        description=(
            "When the customer will next hear from us (ISO 8601 with a time zone, ahead): "
            "the next-update clock is due then."
        ),
    )
    contract: ContractName = ContractName.CONTRACT
    sent_items: SentItems | None = None
    notify_customer: bool = True
    no_notice_reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class EscalationOut(EscalationSummary):
    reason: str
    from_level: str | None
    level: str | None = Field(description="The level escalated to (internal).")
    group: Ref | None
    vendor: Ref | None
    contact: str
    channel: str | None
    contract: str | None
    sent_items: SentItems
    notify_customer: bool
    no_notice_reason: str
    bug_reference: str
    fix_release: Ref | None
    created_by: Person | None


class VendorOut(Schema):
    id: int
    name: str
    kind: str
    email: str
