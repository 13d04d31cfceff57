"""Who sees which organisations and people: one ``visible_to`` per model, used by the API's
directory (and by the desk and portal pages to come)."""

from django.contrib.auth.models import AnonymousUser

from servicedesk.accounts.models import Organisation, User
from tests.factories import CustomerFactory


def test_staff_see_every_organisation_customers_only_their_own(alice, bob, charlie, org_a, org_b):
    assert set(Organisation.objects.visible_to(alice)) == {org_a, org_b}
    assert list(Organisation.objects.visible_to(bob)) == [org_a]
    assert list(Organisation.objects.visible_to(charlie)) == [org_b]


def test_nobody_outside_sees_an_organisation(bob, org_a):
    orphan = CustomerFactory(organisation=None)
    bob.is_active = False
    bob.save()

    assert not Organisation.objects.visible_to(orphan).exists()
    assert not Organisation.objects.visible_to(bob).exists()
    assert not Organisation.objects.visible_to(AnonymousUser()).exists()
    assert not Organisation.objects.visible_to(None).exists()


def test_an_end_user_sees_only_themselves(alice, bob, bob_admin):
    assert list(User.objects.visible_to(bob)) == [bob]


def test_a_customer_administrator_sees_their_organisations_contacts_not_staff_nor_others(
    alice, bob, bob_admin, charlie
):
    assert set(User.objects.visible_to(bob_admin)) == {bob, bob_admin}
    assert set(User.objects.visible_to(charlie)) == {charlie}


def test_staff_see_everyone(alice, bob, charlie):
    assert {alice, bob, charlie} <= set(User.objects.visible_to(alice))
