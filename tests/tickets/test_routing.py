"""Routing (SPEC §3): finance queries go to the account manager; otherwise the category's
group beats the product's, and both beat the first-line intake group."""

import pytest

from servicedesk.tickets.models import CategoryKind
from servicedesk.tickets.routing import FINANCE_QUERY, Route, route

INTAKE, PRODUCT_GROUP, CATEGORY_GROUP, MANAGER = 1, 2, 3, 99


def _route(**given) -> Route:
    inputs = {
        "category_kind": None,
        "category_group_id": None,
        "product_group_id": None,
        "intake_group_id": INTAKE,
        "account_manager_id": MANAGER,
    }
    return route(**{**inputs, **given})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, Route(INTAKE, None)),
        ({"product_group_id": PRODUCT_GROUP}, Route(PRODUCT_GROUP, None)),
        ({"category_group_id": CATEGORY_GROUP}, Route(CATEGORY_GROUP, None)),
        (
            {"category_group_id": CATEGORY_GROUP, "product_group_id": PRODUCT_GROUP},
            Route(CATEGORY_GROUP, None),
        ),
        ({"intake_group_id": None}, Route(None, None)),
        ({"intake_group_id": None, "product_group_id": PRODUCT_GROUP}, Route(PRODUCT_GROUP, None)),
    ],
    ids=[
        "intake",
        "product-beats-intake",
        "category-beats-intake",
        "category-beats-product",
        "nowhere",
        "product-without-intake",
    ],
)
def test_the_category_group_beats_the_product_group_beats_intake(given, expected):
    assert _route(category_kind=CategoryKind.INCIDENT, **given) == expected


@pytest.mark.parametrize(
    "kind", [kind for kind in CategoryKind.values if kind != CategoryKind.FINANCE_QUERY]
)
def test_only_finance_queries_are_assigned_to_the_account_manager(kind):
    result = _route(category_kind=kind)

    assert result.assignee_id is None


def test_a_finance_query_goes_to_the_account_manager():
    result = _route(category_kind=FINANCE_QUERY)

    assert result == Route(group_id=INTAKE, assignee_id=MANAGER)


def test_a_finance_query_keeps_its_categorys_group_as_well():
    result = _route(category_kind=FINANCE_QUERY, category_group_id=CATEGORY_GROUP)

    assert result == Route(group_id=CATEGORY_GROUP, assignee_id=MANAGER)


def test_a_finance_query_without_an_account_manager_stays_unassigned():
    result = _route(category_kind=FINANCE_QUERY, account_manager_id=None)

    assert result == Route(group_id=INTAKE, assignee_id=None)


def test_the_finance_kind_is_the_categorys_finance_query():
    assert FINANCE_QUERY == CategoryKind.FINANCE_QUERY
