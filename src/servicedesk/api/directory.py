"""Organisations, contacts, products, categories, groups, calendars and SLA policies.

Staff read them all; administrators write. Customers read their own organisation and the
contacts they may see; the desk's configuration does not exist for them (404).
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop
from ninja import Query, Router, Status

from servicedesk.accounts import services as accounts
from servicedesk.accounts.models import CustomerRole, Group, Organisation, User, Vendor
from servicedesk.api import present, tokens
from servicedesk.api.common import (
    CHANGE_ERRORS,
    ERRORS,
    caller,
    is_admin,
    reference,
    require_admin,
    require_staff,
)
from servicedesk.api.models import ApiToken
from servicedesk.api.schemas import (
    CalendarOut,
    CategoryIn,
    CategoryOut,
    ContactIn,
    ContactOut,
    GroupIn,
    GroupOut,
    Id,
    OrganisationIn,
    OrganisationOut,
    PolicyOut,
    ProductIn,
    ProductOut,
    TokenOut,
)
from servicedesk.core.errors import Conflict, NotFound, Term
from servicedesk.sla.models import Calendar, Policy
from servicedesk.tickets.models import Category, Product

router = Router()


def _get(queryset, pk: int, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(gettext_noop("No %(what)s with id %(id)s."), what=Term(what), id=pk)
    return found


def _create(model, **fields):
    """Insert a configuration row; a name taken meanwhile is a 409, never a 500."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        raise Conflict(
            gettext_noop("A %(what)s with that name exists."),
            code="duplicate",
            what=Term(model._meta.verbose_name_raw),
        ) from None


# -- organisations ---------------------------------------------------------------------------


def _organisations(user: User):
    return (
        Organisation.objects.visible_to(user)
        .prefetch_related("email_domains")
        .order_by("name", "pk")
    )


@router.get("organisations", response={200: list[OrganisationOut], **ERRORS})
def list_organisations(
    request,
    q: str | None = Query(None, max_length=200),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    rows = _organisations(caller(request))
    if q:
        rows = rows.filter(name__icontains=q)
    return [present.organisation(o) for o in rows[offset : offset + limit]]


@router.get("organisations/{organisation_id}", response={200: OrganisationOut, **ERRORS})
def get_organisation(request, organisation_id: int):
    return present.organisation(
        _get(_organisations(caller(request)), organisation_id, "organisation")
    )


@router.post("organisations", response={201: OrganisationOut, **CHANGE_ERRORS})
def create_organisation(request, data: OrganisationIn):
    require_admin(caller(request))
    organisation = accounts.create_organisation(**data.dict())
    return Status(201, present.organisation(organisation))


# -- contacts --------------------------------------------------------------------------------


def _contacts(user: User):
    return User.objects.visible_to(user).filter(is_staff=False).order_by("email")


@router.get("contacts", response={200: list[ContactOut], **ERRORS})
def list_contacts(
    request,
    organisation: Id | None = None,
    email: str | None = Query(None, max_length=254),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    rows = _contacts(caller(request))
    if organisation is not None:
        rows = rows.filter(organisation_id=organisation)
    if email:
        rows = rows.filter(email=email.strip().lower())
    return [present.contact(c) for c in rows[offset : offset + limit]]


@router.get("contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request, contact_id: int):
    return present.contact(_get(_contacts(caller(request)), contact_id, "contact"))


@router.post("contacts", response={201: ContactOut, **CHANGE_ERRORS})
def create_contact(request, data: ContactIn):
    require_admin(caller(request))
    contact = accounts.create_contact(
        email=data.email,
        name=data.name,
        organisation=reference(Organisation, data.organisation, "organisation"),
        role=CustomerRole(str(data.role)),
        phone=data.phone,
        language=data.language,
        timezone=data.timezone,
    )
    return Status(201, present.contact(contact))


# -- the desk's configuration ---------------------------------------------------------------


def _product(p: Product) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "vendor": p.vendor_id,
        "default_group": p.default_group_id,
        "is_active": p.is_active,
    }


@router.get("products", response={200: list[ProductOut], **ERRORS})
def list_products(request):
    require_staff(caller(request))
    return [_product(p) for p in Product.objects.order_by("name")]


@router.get("products/{product_id}", response={200: ProductOut, **ERRORS})
def get_product(request, product_id: int):
    require_staff(caller(request))
    return _product(_get(Product.objects, product_id, "product"))


@router.post("products", response={201: ProductOut, **CHANGE_ERRORS})
def create_product(request, data: ProductIn):
    require_admin(caller(request))
    product = _create(
        Product,
        name=data.name,
        vendor=reference(Vendor, data.vendor, "vendor"),
        default_group=reference(Group, data.default_group, "default_group"),
        is_active=data.is_active,
    )
    return Status(201, _product(product))


def _category(c: Category) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "default_group": c.default_group_id}


@router.get("categories", response={200: list[CategoryOut], **ERRORS})
def list_categories(request):
    require_staff(caller(request))
    return [_category(c) for c in Category.objects.order_by("name")]


@router.get("categories/{category_id}", response={200: CategoryOut, **ERRORS})
def get_category(request, category_id: int):
    require_staff(caller(request))
    return _category(_get(Category.objects, category_id, "category"))


@router.post("categories", response={201: CategoryOut, **CHANGE_ERRORS})
def create_category(request, data: CategoryIn):
    require_admin(caller(request))
    category = _create(
        Category,
        name=data.name,
        kind=str(data.kind),
        default_group=reference(Group, data.default_group, "default_group"),
    )
    return Status(201, _category(category))


def _group(g: Group) -> dict:
    return {
        "id": g.pk,
        "name": g.name,
        "level": g.level,
        "email": g.email,
        "is_default_intake": g.is_default_intake,
        "members": [m.pk for m in g.members.all()],
    }


@router.get("groups", response={200: list[GroupOut], **ERRORS})
def list_groups(request):
    require_staff(caller(request))
    return [_group(g) for g in Group.objects.prefetch_related("members").order_by("name")]


@router.get("groups/{group_id}", response={200: GroupOut, **ERRORS})
def get_group(request, group_id: int):
    require_staff(caller(request))
    return _group(_get(Group.objects.prefetch_related("members"), group_id, "group"))


@router.post("groups", response={201: GroupOut, **CHANGE_ERRORS})
def create_group(request, data: GroupIn):
    require_admin(caller(request))
    if data.is_default_intake and Group.objects.filter(is_default_intake=True).exists():
        raise Conflict(
            gettext_noop("Another group is the default intake already."), code="duplicate"
        )
    group = _create(
        Group,
        name=data.name,
        level=str(data.level),
        email=data.email,
        is_default_intake=data.is_default_intake,
    )
    return Status(201, _group(group))


def _calendar(c: Calendar) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "timezone": c.timezone,
        "holiday_country": c.holiday_country,
        "holiday_subdivision": c.holiday_subdivision,
        "opening_hours": [
            {"weekday": h.weekday, "opens": h.opens.isoformat(), "closes": h.closes.isoformat()}
            for h in c.opening_hours.all()
        ],
    }


@router.get("calendars", response={200: list[CalendarOut], **ERRORS})
def list_calendars(request):
    require_staff(caller(request))
    return [_calendar(c) for c in Calendar.objects.prefetch_related("opening_hours")]


@router.get("calendars/{calendar_id}", response={200: CalendarOut, **ERRORS})
def get_calendar(request, calendar_id: int):
    require_staff(caller(request))
    return _calendar(
        _get(Calendar.objects.prefetch_related("opening_hours"), calendar_id, "calendar")
    )


def _duration(value) -> str | None:
    return None if value is None else f"PT{int(value.total_seconds())}S"


def _policy(p: Policy) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "calendar": p.calendar_id,
        "organisation": p.organisation_id,
        "product": p.product_id,
        "is_default": p.is_default,
        "warning_percent": p.warning_percent,
        "targets": [
            {
                "priority": t.priority,
                "first_response": _duration(t.first_response),
                "follow_up": _duration(t.follow_up),
                "resolution": _duration(t.resolution),
            }
            for t in p.targets.all()
        ],
    }


@router.get("sla-policies", response={200: list[PolicyOut], **ERRORS})
def list_policies(request):
    require_staff(caller(request))
    return [_policy(p) for p in Policy.objects.prefetch_related("targets").order_by("name")]


@router.get("sla-policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def get_policy(request, policy_id: int):
    require_staff(caller(request))
    return _policy(_get(Policy.objects.prefetch_related("targets"), policy_id, "SLA policy"))


# -- tokens ----------------------------------------------------------------------------------


def _tokens(user: User):
    rows = ApiToken.objects.select_related("user")
    return rows if is_admin(user) else rows.filter(user=user)


@router.get("tokens", response={200: list[TokenOut], **ERRORS}, tags=["tokens"])
def list_tokens(request):
    """Your tokens (administrators: everyone's); never the tokens themselves."""
    return [
        {
            "prefix": t.prefix,
            "name": t.name,
            "user": t.user.email,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t in _tokens(caller(request))
    ]


@router.delete("tokens/{prefix}", response={204: None, **CHANGE_ERRORS}, tags=["tokens"])
def revoke_token(request, prefix: str):
    if not _tokens(caller(request)).filter(prefix=prefix, revoked_at=None).exists():
        raise NotFound(gettext_noop("No live token %(prefix)s."), prefix=prefix)
    tokens.revoke(prefix=prefix)
    return Status(204, None)
