from servicedesk.tickets.routing import route


def test_a_new_ticket_goes_to_the_intake_group():
    assert (
        route(
            category_kind="incident",
            category_group_id=None,
            product_group_id=None,
            intake_group_id=1,
            account_manager_id=9,
        ).group_id
        == 1
    )


def test_the_product_group_beats_the_intake_group():
    assert (
        route(
            category_kind=None,
            category_group_id=None,
            product_group_id=2,
            intake_group_id=1,
            account_manager_id=None,
        ).group_id
        == 2
    )


def test_the_category_group_beats_the_product_group():
    assert (
        route(
            category_kind="bug",
            category_group_id=3,
            product_group_id=2,
            intake_group_id=1,
            account_manager_id=None,
        ).group_id
        == 3
    )


def test_a_finance_query_goes_to_the_account_manager():
    result = route(
        category_kind="finance_query",
        category_group_id=None,
        product_group_id=None,
        intake_group_id=1,
        account_manager_id=9,
    )

    assert (result.group_id, result.assignee_id) == (1, 9)


def test_a_finance_query_without_an_account_manager_stays_unassigned():
    assert (
        route(
            category_kind="finance_query",
            category_group_id=None,
            product_group_id=None,
            intake_group_id=1,
            account_manager_id=None,
        ).assignee_id
        is None
    )
