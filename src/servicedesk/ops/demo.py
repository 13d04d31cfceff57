"""Demo data: three customer organisations (UK, Norway, France), staff at every level, and
tickets over every status, priority, product and channel, with threads and history.

The tickets are built in bulk with their whole past (created, triaged, moved, answered) at
realistic times, rather than through the services one by one, so that ``--tickets 100000``
loads in well under two minutes. Their history is the same one the services would write.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

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
from servicedesk.sla import services as sla_services
from servicedesk.tickets import services as ticket_services
from servicedesk.tickets import triage
from servicedesk.tickets.models import (
    Category,
    CategoryKind,
    Channel,
    Comment,
    Event,
    EventKind,
    Product,
    Ticket,
)
from servicedesk.tickets.selectors import triage_bands
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


@dataclass(slots=True)
class _EventRow:
    """An event of a ticket being built: the fields of ``Event`` without the model's weight."""

    ticket: Ticket
    actor: User | None
    at: datetime
    kind: str
    field: str = ""
    old: object = None
    new: object = None


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


def _moments(rng: random.Random, start: datetime, count: int) -> Iterator[datetime]:
    """``count`` increasing moments after ``start``, minutes to days apart."""
    at = start
    for _ in range(count):
        at += timedelta(minutes=rng.randint(7, 60 * 30))
        yield at


def build_tickets(
    cast: Cast,
    *,
    count: int,
    rng: random.Random,
    since: datetime,
    until: datetime,
    numbers: range,
    cycle: bool,
) -> tuple[list[Ticket], list[list[Comment]], list[list[_EventRow]]]:
    """Build (unsaved) tickets with their threads and histories.

    ``cycle`` walks statuses, channels, products and priorities in turn so that a small set
    covers every combination; otherwise they are drawn at random.
    """
    bands = triage_bands()
    span = (until - since).total_seconds()
    tickets, threads, histories = [], [], []
    members = {
        name: set(group.members.values_list("pk", flat=True)) for name, group in cast.groups.items()
    }
    agents_by_group = {
        name: [a for a in cast.agents if a.pk in ids] or cast.agents
        for name, ids in members.items()
    }
    for index in range(count):
        pick = (lambda seq, i=index: seq[i % len(seq)]) if cycle else rng.choice
        organisation = pick(cast.organisations)
        people = cast.contacts[organisation.pk]
        requester = pick(people)
        status = Status(pick(STATUSES))
        channel = pick(CHANNELS)
        product = pick(cast.products)
        category = pick(cast.categories)
        urgency, impact = pick(TRIAGE_CHOICES)
        assessment = triage.assess(urgency=urgency, impact=impact, bands=bands)
        language = organisation.language
        subject = pick(SUBJECTS[language]).format(product=product.name)
        created = since + timedelta(seconds=rng.random() * span * 0.97)
        group = cast.groups[
            "CRM specialists" if status in (Status.WAITING_ON_THIRD_PARTY,) else "First line"
        ]
        assignee = None if status == Status.NEW else rng.choice(agents_by_group[group.name])
        if category.kind == CategoryKind.FINANCE_QUERY and organisation.account_manager_id:
            assignee = organisation.account_manager
        ticket = Ticket(
            number=numbers[index],
            organisation=organisation,
            requester=requester,
            channel=channel,
            product=product,
            category=category,
            subject=subject,
            description=DESCRIPTIONS[language].format(
                since=(created - timedelta(days=2)).date(), product=product.name
            ),
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
            group=group,
            assignee=assignee,
            status=Status.NEW,
            proposed_urgency=urgency,
            proposed_impact=impact,
            score=assessment.score,
            priority=assessment.priority,
            created_at=created,
            updated_at=created,
        )
        events = [
            _EventRow(
                ticket=ticket,
                actor=requester,
                at=created,
                kind=EventKind.CREATED,
                new={
                    "subject": subject,
                    "channel": channel,
                    "status": "new",
                    "score": assessment.score,
                    "priority": assessment.priority,
                    "group": group.pk,
                    "assignee": None,
                },
            )
        ]
        comments: list[Comment] = []
        path = PATHS[status]
        steps = len(path) + rng.randint(1, 4)
        moments = iter(list(_moments(rng, created, steps + 1)))
        staff = assignee or rng.choice(cast.agents)
        previous = Status.NEW
        for target in path:
            at = next(moments)
            if target == Status.OPEN:  # the desk confirms the triage, which opens the ticket
                events.append(
                    _EventRow(
                        ticket=ticket,
                        actor=staff,
                        at=at,
                        kind=EventKind.TRIAGE,
                        field="triage",
                        old={
                            "urgency": None,
                            "impact": None,
                            "score": assessment.score,
                            "priority": assessment.priority,
                        },
                        new={
                            "urgency": urgency,
                            "impact": impact,
                            "score": assessment.score,
                            "priority": assessment.priority,
                        },
                    )
                )
                ticket.confirmed_urgency, ticket.confirmed_impact = urgency, impact
                comments.append(
                    Comment(
                        ticket=ticket,
                        author=staff,
                        body=REPLIES["staff"][0],
                        internal=False,
                        channel=Channel.EMAIL,
                        created_at=at,
                    )
                )
                if rng.random() < 0.5:
                    comments.append(
                        Comment(
                            ticket=ticket,
                            author=staff,
                            body=rng.choice(REPLIES["note"]),
                            internal=True,
                            channel=Channel.PORTAL,
                            created_at=at,
                        )
                    )
            elif target in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
                comments.append(
                    Comment(
                        ticket=ticket,
                        author=staff,
                        body=rng.choice(REPLIES["staff"][1:]),
                        internal=False,
                        channel=Channel.EMAIL,
                        created_at=at,
                    )
                )
            events.append(
                _EventRow(
                    ticket=ticket,
                    actor=staff if target != Status.CLOSED else requester,
                    at=at,
                    kind=EventKind.STATUS,
                    field="status",
                    old=str(previous),
                    new=str(target),
                )
            )
            previous = target
            if target == Status.RESOLVED:
                ticket.resolved_at = at
            if target == Status.CLOSED:
                ticket.closed_at = at
        if (
            status not in (Status.RESOLVED, Status.CLOSED, Status.WAITING_ON_CUSTOMER)
            and rng.random() < 0.7
        ):
            comments.append(
                Comment(
                    ticket=ticket,
                    author=requester,
                    body=rng.choice(REPLIES["customer"]),
                    internal=False,
                    channel=channel if channel != Channel.API else Channel.EMAIL,
                    created_at=next(moments),
                )
            )
        if not comments:
            comments.append(
                Comment(
                    ticket=ticket,
                    author=requester,
                    body=rng.choice(REPLIES["customer"]),
                    internal=False,
                    channel=Channel.EMAIL,
                    created_at=next(moments),
                )
            )
        comments.sort(key=lambda c: c.created_at)
        for comment in comments:
            events.append(
                _EventRow(
                    ticket=ticket,
                    actor=comment.author,
                    at=comment.created_at,
                    kind=EventKind.NOTE if comment.internal else EventKind.REPLY,
                )
            )
        events.sort(key=lambda e: e.at)
        ticket.status = status
        ticket.updated_at = max(e.at for e in events)
        tickets.append(ticket)
        threads.append(comments)
        histories.append(events)
    return tickets, threads, histories


def save_tickets(
    tickets: list[Ticket], threads: list[list[Comment]], histories: list[list["_EventRow"]]
) -> None:
    """Insert tickets, then their comments, then their events (ids linked in between).

    Events, the bulk of the rows, go in with one ``executemany``: the ORM's per-object work
    would cost more than the inserts themselves.
    """
    with transaction.atomic():
        Ticket.objects.bulk_create(tickets)
        for ticket, comments in zip(tickets, threads, strict=True):
            for comment in comments:
                comment.ticket_id = ticket.pk
        Comment.objects.bulk_create([c for comments in threads for c in comments])
        fields = [
            Event._meta.get_field(name)
            for name in (
                "ticket",
                "actor",
                "at",
                "kind",
                "field",
                "old",
                "new",
                "reason",
                "internal",
            )
        ]
        at_field, old_field, new_field = fields[2], fields[5], fields[6]
        rows = []
        for ticket, events, comments in zip(tickets, histories, threads, strict=True):
            pending = iter(comments)
            for event in events:
                new = (
                    {"comment": next(pending).pk}
                    if event.kind in (EventKind.REPLY, EventKind.NOTE)
                    else event.new
                )
                rows.append(
                    (
                        ticket.pk,
                        event.actor.pk if event.actor else None,
                        at_field.get_db_prep_save(event.at, connection),
                        event.kind,
                        event.field,
                        old_field.get_db_prep_save(event.old, connection),
                        new_field.get_db_prep_save(new, connection),
                        "",
                        event.kind == EventKind.NOTE,
                    )
                )
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(Event._meta.db_table)} ({columns}) VALUES ({marks})",
                rows,
            )


def add_tickets(count: int, *, seed: int, cycle: bool, days: int, batch: int = 5000) -> int:
    """Add ``count`` tickets over the past ``days`` days, then start their SLA clocks."""
    cast = current_cast()
    rng = random.Random(seed)
    until = clock.now()
    since = until - timedelta(days=days)
    done = 0
    while done < count:
        size = min(batch, count - done)
        with transaction.atomic():
            numbers = ticket_services.allocate_numbers(size)
        tickets, threads, histories = build_tickets(
            cast, count=size, rng=rng, since=since, until=until, numbers=numbers, cycle=cycle
        )
        save_tickets(tickets, threads, histories)
        done += size
    sla_services.backfill_clocks()
    return done


def load(*, base_tickets: int = 63) -> bool:
    """Load the demo once. Returns False when it was already there (nothing is changed)."""
    if is_loaded():
        return False
    load_people()
    add_tickets(base_tickets, seed=42, cycle=True, days=90)
    return True


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
