"""What /api/v1/changes accepts and answers (change requests, SPEC §7)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StringConstraints

from servicedesk.api.schemas import Email, Id, Person, Ref, Text
from servicedesk.changes.models import Scope
from servicedesk.changes.workflow import Stage

ScopeName = StrEnum("ScopeName", {value.upper(): value for value in Scope.values})
Title = Annotated[str, StringConstraints(min_length=1, max_length=250)]
Reason = Annotated[str, StringConstraints(max_length=2000)]
Hours = Annotated[
    float,
    Field(
        ge=0,
        lt=1_000_000,
        allow_inf_nan=False,
        description="Hours, kept to one decimal (7.26 is kept as 7.3).",
    ),
]


class Approval(Schema):
    decision: Literal["approved", "unapproved"]
    by: Person | None = Field(description="The customer administrator who decided.")
    at: datetime
    comment: str


class StepOut(Schema):
    position: int
    description: str
    due_on: date | None
    responsible: str
    done: bool


class ChangeOut(Schema):
    number: int
    reference: str = Field(description="The number as people write it: CR-1042.")
    title: str
    description: str
    stage: Stage
    ticket: int | None = Field(description="The number of the ticket it came from, if any.")
    organisation: Ref
    requested_at: datetime
    requested_by: Person
    product: Ref | None
    scope: ScopeName
    owner: Person | None = Field(description="The desk agent who takes it.")
    vendor: Ref | None = Field(
        description="The vendor who takes it (standard software); null for customers."
    )
    urgent: bool
    chargeable: bool | None = Field(description="Null until decided.")
    effort_hours: float | None = Field(description="The effort estimate in hours.")
    feasibility: str
    impact: str
    risk: str
    resources: str = Field(description="The resources it requires.")
    approval_round: int = Field(
        description="How many times approval was asked (re-submitted: a new round)."
    )
    approval_requested_at: datetime | None = Field(description="When approval was last asked.")
    approval: Approval | None = Field(description="The decision of the current round, if any.")
    scheduled_for: date | None
    test_outcome: str = Field(description="The test / UAT outcome.")
    kpis_met: bool | None = Field(
        description="The post-implementation review: KPIs met or not; null before the review."
    )
    lessons_learned: str
    plan: list[StepOut] = Field(description="The implementation plan, in order.")
    allowed_moves: list[Stage] = Field(
        description="The stages staff may move it to now (POST .../stage); empty for customers."
    )
    updated_at: datetime
    closed_at: datetime | None


class ChangePage(Schema):
    items: list[ChangeOut]
    next_cursor: str | None


# Input refuses fields it does not know (422): a misspelt field must not pass as "unchanged".
STRICT = ConfigDict(extra="forbid")


class ChangeIn(Schema):
    """Staff open a CR for a customer: ``organisation`` and ``requester_email`` (a contact
    of it); a customer opens one in their own name for their organisation."""

    model_config = STRICT

    title: Title
    description: Text
    organisation: Id | None = None
    requester_email: Email | None = None
    product: Id | None = None
    scope: ScopeName = ScopeName.CUSTOMISATION
    urgent: bool = False


class ChangePatch(Schema):
    """The record's fields (staff). Only the fields sent change; null clears a text. While
    the administrator decides, the estimate (title, description, scope, chargeable,
    effort_hours) cannot change: move it back to assessment first."""

    model_config = STRICT

    title: Title | None = None
    description: Text | None = None
    product: Id | None = None
    scope: ScopeName | None = None
    owner: Id | None = Field(default=None, description="A desk agent's id, or null.")
    vendor: Id | None = None
    chargeable: bool | None = None
    effort_hours: Hours | None = None
    feasibility: Text | None = None
    impact: Text | None = None
    risk: Text | None = None
    resources: Text | None = None
    scheduled_for: date | None = None
    test_outcome: Text | None = None
    kpis_met: bool | None = None
    lessons_learned: Text | None = None


class ConvertIn(Schema):
    model_config = STRICT

    scope: ScopeName = ScopeName.CUSTOMISATION
    reason: Reason = Field(default="", description="Added to the ticket's description.")


class StageIn(Schema):
    model_config = STRICT

    stage: Stage
    reason: Reason = ""


class ApprovalIn(Schema):
    model_config = STRICT

    approved: bool
    comment: Annotated[str, StringConstraints(max_length=5000)] = ""
    approval_round: Annotated[int, Field(ge=0, le=2**31)] | None = Field(
        default=None,
        description="The round decided on (the CR's `approval_round` as read): refused (409) "
        "if approval was asked again since.",
    )


class StepIn(Schema):
    model_config = STRICT

    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    due_on: date | None = None
    responsible: Annotated[str, StringConstraints(max_length=200)] = ""
    done: bool = False
