"""Where a new ticket goes (SPEC §3). Pure: ids in, a route out.

Finance queries go to the organisation's account manager. Otherwise the category's group
wins over the product's, and both over the first-line intake group.
"""

from dataclasses import dataclass

FINANCE_QUERY = "finance_query"


@dataclass(frozen=True)
class Route:
    group_id: int | None
    assignee_id: int | None


def route(
    *,
    category_kind: str | None,
    category_group_id: int | None,
    product_group_id: int | None,
    intake_group_id: int | None,
    account_manager_id: int | None,
) -> Route:
    """The group and agent a new ticket starts with."""
    group_id = category_group_id or product_group_id or intake_group_id
    if category_kind == FINANCE_QUERY and account_manager_id:
        return Route(group_id=group_id, assignee_id=account_manager_id)
    return Route(group_id=group_id, assignee_id=None)
