"""Which SLA policy applies to a ticket (SPEC §5). Pure: plain values in, an id out.

The most specific policy wins: organisation and product, then organisation, then product,
then the default.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class PolicyScope:
    policy_id: int
    organisation_id: int | None
    product_id: int | None
    is_default: bool


def choose_policy(
    scopes: Iterable[PolicyScope], *, organisation_id: int | None, product_id: int | None
) -> int | None:
    """The id of the most specific policy that covers the ticket, or None if none does."""
    best: tuple[int, int] | None = None
    for scope in scopes:
        if scope.organisation_id is not None and scope.organisation_id != organisation_id:
            continue
        if scope.product_id is not None and scope.product_id != product_id:
            continue
        if scope.organisation_id is None and scope.product_id is None and not scope.is_default:
            continue
        rank = (2 if scope.organisation_id is not None else 0) + (
            1 if scope.product_id is not None else 0
        )
        if best is None or rank > best[0]:
            best = (rank, scope.policy_id)
    return None if best is None else best[1]


def warning_share(target: timedelta, percent: int) -> timedelta:
    """The part of ``target`` after which a warning is due (80 % by default)."""
    return timedelta(seconds=round(target.total_seconds() * percent / 100))
