"""Demo data: three customer organisations (UK, Norway, France), staff at every level,
tickets over every status, priority, product and channel, with threads and history, and
change requests in every stage (``demo_changes``).

The tickets come with their whole past (filed, triaged, assigned, moved, answered) at
realistic times, through the import (``tickets.imports``, as ``POST /api/v1/imports/tickets``)
rather than through the services one by one: in bulk, so that ``--tickets 100000`` loads in
about a minute, with the history layout the services write, the SLA clocks computed from
that past and settled as history (no warning or breach mail for moments long gone).
"""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from servicedesk.accounts.models import (
    CustomerRole,
    EmailDomain,
    Group,
    Organisation,
    StaffRole,
    SupportLevel,
    User,
    Vendor,
    VendorKind,
)
from servicedesk.core import clock
from servicedesk.desk.models import Macro
from servicedesk.ops import demo_changes
from servicedesk.search import index as search_index
from servicedesk.tickets import imports
from servicedesk.tickets.models import (
    Category,
    CategoryKind,
    Channel,
    Product,
)
from servicedesk.tickets.workflow import Status

PASSWORD = "demo"
ADMIN_EMAIL = "admin@demo.example"

ORGANISATIONS = [
    # name, country, time zone, language, domain
    ("Harbour & Finch Ltd", "GB", "Europe/London", "en", "harbourfinch.co.uk"),
    ("Nordlys Energi AS", "NO", "Europe/Oslo", "nb", "nordlys-energi.no"),
    ("Maison Lavande SA", "FR", "Europe/Paris", "fr", "maisonlavande.fr"),
]

CONTACTS = [
    # local part, name, role
    ("it.admin", "Customer administrator", CustomerRole.CUSTOMER_ADMIN),
    ("logger", "Designated logger", CustomerRole.LOGGER),
    ("sales", "Sales user", CustomerRole.END_USER),
    ("finance", "Finance user", CustomerRole.END_USER),
]
CONTACT_NAMES = {
    "GB": ["Olivia Hughes", "George Patel", "Amelia Clarke", "Harry Evans"],
    "NO": ["Ingrid Solberg", "Lars Haugen", "Kari Nilsen", "Ola Berg"],
    "FR": ["Camille Laurent", "Julien Moreau", "Chloé Girard", "Hugo Lefèvre"],
}

STAFF = [
    # email, name, role, group, language, time zone
    ("manager@demo.example", "Morgan Lee", StaffRole.SUPPORT_MANAGER, None, "en", "Europe/London"),
    (
        "sam@demo.example",
        "Sam Taylor",
        StaffRole.SERVICE_REPRESENTATIVE,
        "First line",
        "en",
        "Europe/London",
    ),
    (
        "nora@demo.example",
        "Nora Dahl",
        StaffRole.SERVICE_REPRESENTATIVE,
        "First line",
        "nb",
        "Europe/Oslo",
    ),
    (
        "claire@demo.example",
        "Claire Dubois",
        StaffRole.CRM_SPECIALIST,
        "CRM specialists",
        "fr",
        "Europe/Paris",
    ),
    (
        "raj@demo.example",
        "Raj Mehta",
        StaffRole.CRM_SPECIALIST,
        "CRM specialists",
        "en",
        "Europe/London",
    ),
    (
        "erik@demo.example",
        "Erik Johansen",
        StaffRole.SOFTWARE_ENGINEER,
        "Development",
        "nb",
        "Europe/Oslo",
    ),
]

VENDORS = [
    ("Microsoft", VendorKind.SOFTWARE_OWNER, "support@microsoft.example"),
    ("SuperOffice AS", VendorKind.SOFTWARE_OWNER, "partner@superoffice.example"),
    ("GoldMine Software", VendorKind.SOFTWARE_OWNER, "support@goldmine.example"),
    ("Bridgewater Integrations", VendorKind.INTEGRATOR, "help@bridgewater.example"),
    ("Cloudhaven Hosting", VendorKind.HOSTING_PROVIDER, "noc@cloudhaven.example"),
]
PRODUCTS = [
    ("Dynamics 365", "Microsoft"),
    ("SuperOffice", "SuperOffice AS"),
    ("GoldMine", "GoldMine Software"),
]
CATEGORIES = [
    ("Incident", CategoryKind.INCIDENT),
    ("Bug", CategoryKind.BUG),
    ("Question / how-to", CategoryKind.QUESTION),
    ("Configuration", CategoryKind.CONFIGURATION),
    ("Change request", CategoryKind.CHANGE_REQUEST),
    ("Finance query", CategoryKind.FINANCE_QUERY),
]

SUBJECTS = {
    "en": [
        "Outlook add-in no longer tracks emails to {product}",
        "Duplicate detection rule blocks new accounts",
        "Sales dashboard shows no data since the update",
        "Cannot export opportunities to Excel",
        "Workflow sends the quote email twice",
        "Users locked out after password policy change",
        "Invoice for last quarter charged twice",
        "Please add a field for the customer's VAT number",
        "Mobile app does not sync appointments",
        "Import of 5,000 contacts stops at row 1,204",
        "Report on closed deals is very slow",
        "Security role does not allow editing cases",
    ],
    "nb": [
        "Outlook-tillegget sporer ikke lenger e-post til {product}",
        "Kan ikke eksportere salgsmuligheter til Excel",
        "Synkronisering av kalender stopper hver natt",
        "Ny bruker får ikke tilgang til {product}",
        "Faktura for lisenser er feil",
    ],
    "fr": [
        "Le complément Outlook ne suit plus les e-mails dans {product}",
        "Impossible d'exporter les opportunités vers Excel",
        "Le tableau de bord commercial est vide depuis la mise à jour",
        "Un utilisateur ne peut plus se connecter à {product}",
        "Facture de licences en double",
    ],
}
DESCRIPTIONS = {
    "en": "Since {since} several users see this in {product}. We restarted the client and "
    "cleared the cache; it did not help. Screenshots attached where we could.",
    "nb": "Siden {since} ser flere brukere dette i {product}. Vi har startet klienten på nytt "
    "uten at det hjalp.",
    "fr": "Depuis le {since}, plusieurs utilisateurs rencontrent ce problème dans {product}. "
    "Nous avons redémarré le client, sans effet.",
}
REPLIES = {
    "staff": [
        "Thank you for the details. We are looking into it and will update you shortly.",
        "Could you send us the exact error message and the time it happened?",
        "We have applied a fix to the configuration; please try again.",
        "This is a known issue in the current release; we have asked the vendor for a fix.",
    ],
    "customer": [
        "Here is the screenshot you asked for.",
        "It happened again this morning at 09:15.",
        "Thanks, that works now.",
        "Any news on this? The sales team is waiting.",
    ],
    "note": [
        "Checked the server logs: plugin times out after 30 s.",
        "Reproduced on our test tenant. Escalating to L2.",
        "Customer is on the maintenance contract; no quote needed.",
    ],
}

# The path of statuses a ticket took to reach its current one (after "new").
PATHS = {
    Status.NEW: [],
    Status.OPEN: [Status.OPEN],
    Status.IN_PROGRESS: [Status.OPEN, Status.IN_PROGRESS],
    Status.WAITING_ON_CUSTOMER: [Status.OPEN, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER],
    Status.WAITING_ON_THIRD_PARTY: [Status.OPEN, Status.IN_PROGRESS, Status.WAITING_ON_THIRD_PARTY],
    Status.RESOLVED: [Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED],
    Status.CLOSED: [Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED],
}
STATUSES = list(PATHS)
CHANNELS = list(Channel.values)
# (urgency, impact) pairs that give each S4 priority: medium, high, critical.
TRIAGE_CHOICES = [(1, 1), (2, 2), (2, 3), (3, 3), (4, 2), (3, 4), (4, 4), (1, 3), (2, 1)]


@dataclass
class Cast:
    """The people and configuration tickets are built from (ids only, for bulk rows)."""

    organisations: list[Organisation]
    contacts: dict[int, list[User]]  # organisation id -> contacts
    agents: list[User]
    groups: dict[str, Group]
    products: list[Product]
    categories: list[Category]


def is_loaded() -> bool:
    return User.objects.filter(email=ADMIN_EMAIL).exists()


@transaction.atomic
def load_people() -> Cast:
    """Create the organisations, staff, vendors, products and categories (once)."""
    password = make_password(PASSWORD)  # hashed once: PBKDF2 is slow by design
    groups = {g.name: g for g in Group.objects.all()}
    for name, level, intake in (
        ("First line", SupportLevel.L1, True),
        ("CRM specialists", SupportLevel.L2, False),
        ("Development", SupportLevel.L3, False),
    ):
        if name not in groups:
            groups[name] = Group.objects.create(
                name=name,
                level=level,
                is_default_intake=intake
                and not Group.objects.filter(is_default_intake=True).exists(),
            )
    User.objects.create(
        email=ADMIN_EMAIL,
        full_name="Alex Admin",
        is_staff=True,
        is_superuser=True,
        staff_role=StaffRole.IT_ADMINISTRATOR,
        password=password,
    )
    agents = []
    for email, name, role, group_name, language, tz in STAFF:
        agent = User.objects.create(
            email=email,
            full_name=name,
            is_staff=True,
            staff_role=role,
            language=language,
            timezone=tz,
            password=password,
        )
        if group_name:
            groups[group_name].members.add(agent)
        agents.append(agent)
    by_email = {a.email: a for a in agents}
    for group_name, lead in (
        ("First line", "sam@demo.example"),
        ("CRM specialists", "claire@demo.example"),
        ("Development", "erik@demo.example"),
    ):
        groups[group_name].lead = by_email[lead]
        groups[group_name].save(update_fields=["lead"])

    vendors = {
        name: Vendor.objects.get_or_create(name=name, defaults={"kind": kind, "email": email})[0]
        for name, kind, email in VENDORS
    }
    products = [
        Product.objects.get_or_create(name=name, defaults={"vendor": vendors[vendor]})[0]
        for name, vendor in PRODUCTS
    ]
    categories = [
        Category.objects.get_or_create(name=name, defaults={"kind": kind})[0]
        for name, kind in CATEGORIES
    ]

    managers = [by_email["claire@demo.example"], by_email["raj@demo.example"]]
    organisations, contacts = [], {}
    for index, (name, country, tz, language, domain) in enumerate(ORGANISATIONS):
        organisation = Organisation.objects.create(
            name=name,
            country=country,
            timezone=tz,
            language=language,
            account_manager=managers[index % 2],
            project_lead=by_email["erik@demo.example"],
        )
        EmailDomain.objects.create(organisation=organisation, domain=domain)
        people = []
        for (local, _, role), full_name in zip(CONTACTS, CONTACT_NAMES[country], strict=True):
            people.append(
                User.objects.create(
                    email=f"{local}@{domain}",
                    full_name=full_name,
                    organisation=organisation,
                    customer_role=role,
                    language=language,
                    timezone=tz,
                    password=password,
                )
            )
        organisations.append(organisation)
        contacts[organisation.pk] = people
    return Cast(organisations, contacts, agents, groups, products, categories)


def current_cast() -> Cast:
    organisations = list(
        Organisation.objects.filter(email_domains__domain__in=[o[4] for o in ORGANISATIONS])
    )
    contacts: dict[int, list[User]] = {o.pk: [] for o in organisations}
    for person in User.objects.filter(organisation__in=organisations).order_by("pk"):
        contacts[person.organisation_id].append(person)
    return Cast(
        organisations=organisations,
        contacts=contacts,
        agents=list(User.objects.filter(email__in=[s[0] for s in STAFF]).order_by("pk")),
        groups={g.name: g for g in Group.objects.all()},
        products=list(Product.objects.filter(name__in=[p[0] for p in PRODUCTS]).order_by("pk")),
        categories=list(
            Category.objects.filter(name__in=[c[0] for c in CATEGORIES]).order_by("pk")
        ),
    )


def _moments(rng: random.Random, start: datetime, count: int, until: datetime) -> list[datetime]:
    """``count`` increasing moments after ``start``: the desk's first answer within hours,
    then minutes to days apart; squeezed into the time left when they would pass ``until``."""
    moments, at = [], start
    for step in range(count):
        at += timedelta(minutes=rng.randint(5, 180) if step == 0 else rng.randint(7, 60 * 30))
        moments.append(at)
    if moments and moments[-1] > until:
        share = (until - start) / (moments[-1] - start)
        moments = [start + (m - start) * share for m in moments]
    return moments


def _reply(
    thread: list[imports.Reply],
    author: User,
    body: str,
    at: datetime,
    *,
    internal: bool = False,
    via: str = Channel.EMAIL,
) -> None:
    thread.append(imports.Reply(author.email, body, internal, at, channel=via))


def build_items(
    cast: Cast,
    *,
    count: int,
    rng: random.Random,
    since: datetime,
    until: datetime,
    ids: Iterator[str],
    cycle: bool,
) -> list[imports.Item]:
    """Tickets with their whole past (filed, triaged, assigned, moved, answered), as another
    desk would hand them to the import.

    ``cycle`` walks statuses, channels, products and priorities in turn so that a small set
    covers every combination; otherwise they are drawn at random. New tickets are recent: a
    desk triages within hours, so its untouched tickets are the latest few.
    """
    span = (until - since).total_seconds()
    recent = min(span, timedelta(days=3).total_seconds())
    members = {
        name: set(group.members.values_list("pk", flat=True)) for name, group in cast.groups.items()
    }
    agents_by_group = {
        name: [a for a in cast.agents if a.pk in ids_] or cast.agents
        for name, ids_ in members.items()
    }
    specialists = cast.groups["CRM specialists"]
    items = []
    for index in range(count):
        pick = (lambda seq, i=index: seq[i % len(seq)]) if cycle else rng.choice
        organisation = pick(cast.organisations)
        requester = pick(cast.contacts[organisation.pk])
        status = Status(pick(STATUSES))
        channel = pick(CHANNELS)
        product = pick(cast.products)
        category = pick(cast.categories)
        urgency, impact = pick(TRIAGE_CHOICES)
        language = organisation.language
        subject = pick(SUBJECTS[language]).format(product=product.name)
        age = rng.random() * (recent if status == Status.NEW else span * 0.97)
        created = until - timedelta(seconds=age)
        finance = category.kind == CategoryKind.FINANCE_QUERY and organisation.account_manager
        # The finance query is routed to the account manager; others go to someone at triage.
        assignee = finance or rng.choice(agents_by_group["First line"])
        path = PATHS[status]
        moments = iter(_moments(rng, created, len(path) + rng.randint(1, 4), until))
        thread: list[imports.Reply] = []
        moves: list[imports.StatusChange] = []
        assignments: list[imports.Assignment] = []
        triaged = None

        for target in path:
            at = next(moments)
            if target == Status.OPEN:  # the desk confirms the triage, which opens the ticket
                triaged = imports.Triage(urgency, impact, at, by_email=assignee.email)
                if not finance:
                    assignments.append(
                        imports.Assignment(
                            at, assignee_email=assignee.email, by_email=assignee.email
                        )
                    )
                _reply(thread, assignee, REPLIES["staff"][0], at)
                if rng.random() < 0.5:
                    _reply(
                        thread,
                        assignee,
                        rng.choice(REPLIES["note"]),
                        at,
                        internal=True,
                        via=Channel.PORTAL,
                    )
            elif target == Status.WAITING_ON_THIRD_PARTY:  # escalated to the specialists
                specialist = rng.choice(agents_by_group[specialists.name])
                assignments.append(
                    imports.Assignment(
                        at,
                        assignee_email=specialist.email,
                        group_id=specialists.pk,
                        by_email=assignee.email,
                    )
                )
                assignee = specialist
            elif target in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
                _reply(thread, assignee, rng.choice(REPLIES["staff"][1:]), at)
            by = requester if target == Status.CLOSED else assignee
            moves.append(imports.StatusChange(str(target), at, by_email=by.email))
        if (
            status not in (Status.RESOLVED, Status.CLOSED, Status.WAITING_ON_CUSTOMER)
            and rng.random() < 0.7
        ) or not thread:
            via = channel if channel != Channel.API else Channel.EMAIL
            _reply(thread, requester, rng.choice(REPLIES["customer"]), next(moments), via=via)
        items.append(
            imports.Item(
                external_id=next(ids),
                subject=subject,
                description=DESCRIPTIONS[language].format(
                    since=(created - timedelta(days=2)).date(), product=product.name
                ),
                requester_email=requester.email,
                created_at=created,
                organisation_id=organisation.pk,
                status=str(status),
                urgency=urgency,
                impact=impact,
                thread=tuple(thread),
                status_history=tuple(moves),
                channel=channel,
                product_id=product.pk,
                category_id=category.pk,
                steps_to_reproduce="1. Open the record\n2. Click Save\n3. See the error"
                if category.kind in ("bug", "incident")
                else "",
                users_affected=rng.choice([1, 3, 12, 40, 250]),
                present_since=(created - timedelta(days=rng.randint(0, 14))).date(),
                investigations_done="Restarted the client; checked with a second user.",
                business_impact=rng.choice(
                    [
                        "Sales team cannot log calls.",
                        "Minor inconvenience.",
                        "Month-end invoicing is blocked.",
                    ]
                ),
                triage=triaged,
                assignments=tuple(assignments),
            )
        )
    return items


def add_tickets(
    count: int, *, seed: int, cycle: bool, days: int, batch: int = imports.MAX_PER_CALL
) -> int:
    """Add ``count`` tickets over the past ``days`` days through the import, which also
    computes their SLA clocks and settles what the clocks' past already decided."""
    cast = current_cast()
    rng = random.Random(seed)
    until = clock.now()
    since = until - timedelta(days=days)
    # The base tickets keep their ids (so are never imported twice); each bulk run is new.
    run = "" if cycle else f"{until:%Y%m%dT%H%M%S.%f}-{seed}-"
    ids = (f"demo-{run}{n}" for n in itertools.count(1))
    done = 0
    while done < count:
        size = min(batch, count - done)
        items = build_items(
            cast, count=size, rng=rng, since=since, until=until, ids=ids, cycle=cycle
        )
        with transaction.atomic():  # the import publishes nothing: index what it loaded
            created = imports.import_tickets(items, by=None).created
            search_index.reindex_numbers(number for _, number in created)
        done += len(created)
    search_index.optimize()  # one index segment instead of one per batch: faster searches
    return done


@transaction.atomic
def load(*, base_tickets: int = 63) -> bool:
    """Load the demo once. Returns False when it was already there (nothing is changed)."""
    if is_loaded():
        return False
    load_people()
    load_macros()
    add_tickets(base_tickets, seed=42, cycle=True, days=90)
    demo_changes.load(current_cast().organisations)
    return True


MACROS = (
    (
        "Ask for a screenshot and steps",
        "Hello {requester_name},\n\nThank you for reporting {ticket}. To look into it, could "
        "you send us a screenshot of the error and the steps that lead to it?\n\nBest "
        "regards,\n{agent}",
    ),
    (
        "Fixed: please confirm",
        "Hello {requester_name},\n\nWe have applied a fix for {ticket} ({subject}). Could you "
        "confirm it works for you? Without an answer we will close the ticket.\n\n{agent}",
    ),
    (
        "Escalated to the vendor",
        "Hello {requester_name},\n\nWe have escalated {ticket} to the vendor and will update "
        "you by {due} at the latest.\n\n{agent}",
    ),
)


def load_macros() -> None:
    """The desk's canned replies (managed in the admin), with their placeholders."""
    for name, body in MACROS:
        Macro.objects.get_or_create(name=name, defaults={"body": body})


def logins() -> list[tuple[str, str]]:
    """(email, what they are) for the demo users worth signing in as."""
    rows = [(ADMIN_EMAIL, "staff administrator (superuser)")]
    rows += [(email, f"staff — {role.label}") for email, _, role, *_ in STAFF]
    for organisation in Organisation.objects.filter(
        email_domains__domain__in=[o[4] for o in ORGANISATIONS]
    ):
        for person in organisation.contacts.filter(
            customer_role__in=[CustomerRole.CUSTOMER_ADMIN, CustomerRole.LOGGER]
        ):
            rows.append(
                (person.email, f"{person.get_customer_role_display()}, {organisation.name}")
            )
    return rows
