"""factory-boy factories for the foundation's models. Tickets are made through the service,
so they carry numbers, routing and a creation event like real ones."""

import factory

from servicedesk.accounts.models import (
    CustomerRole,
    Group,
    Organisation,
    StaffRole,
    SupportLevel,
    User,
    Vendor,
)
from servicedesk.tickets import services
from servicedesk.tickets.models import Category, CategoryKind, Channel, Product


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    country = "GB"
    timezone = "Europe/London"
    language = "en"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    full_name = factory.Faker("name")
    organisation = factory.SubFactory(OrganisationFactory)
    customer_role = CustomerRole.END_USER
    password = factory.django.Password("pw")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"agent{n}@desk.example")
    full_name = factory.Faker("name")
    is_staff = True
    staff_role = StaffRole.SERVICE_REPRESENTATIVE
    password = factory.django.Password("pw")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")
    level = SupportLevel.L2


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n}")
    kind = "software_owner"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    kind = CategoryKind.INCIDENT


def make_ticket(*, requester: User | None = None, by: User | None = None, **fields):
    """A ticket filed through ``services.create_ticket`` (by the requester unless told)."""
    requester = requester or CustomerFactory()
    fields.setdefault("subject", "Outlook add-in does not sync contacts")
    fields.setdefault("channel", Channel.PORTAL)
    return services.create_ticket(by=by or requester, requester=requester, **fields)
