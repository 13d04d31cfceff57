"""Demo change requests: for each demo organisation, a handful of CRs in every stage (one
turned from a support ticket), made through the services as an agent and the organisation's
administrator would, then dated back over the past weeks so the reports have lead times.

Like the tickets' past, the demo's history mails nobody: the mail its services queued (the
administrators' approval requests, the customer told of the conversion) is dropped.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from servicedesk.accounts.models import CustomerRole, Organisation, User
from servicedesk.changes import services
from servicedesk.changes.models import ChangeEvent, ChangeEventKind, ChangeRequest, Scope
from servicedesk.changes.workflow import Stage
from servicedesk.core import clock
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets.models import Product, Ticket
from servicedesk.tickets.workflow import Status

AGENT_EMAIL = "erik@demo.example"  # the organisations' project lead: customisations are his
# The stages a CR passes on its way, in order (unapproved branches off after approval).
PATH = [
    Stage.REQUESTED,
    Stage.ASSESSMENT,
    Stage.AWAITING_APPROVAL,
    Stage.APPROVED,
    Stage.TESTING,
    Stage.IMPLEMENTATION,
    Stage.REVIEW,
    Stage.CLOSED,
]


@dataclass(frozen=True)
class Story:
    titles: dict[str, str]  # language -> title
    stage: Stage
    scope: str = Scope.CUSTOMISATION
    urgent: bool = False
    weeks_ago: int = 1


STORIES = [
    Story(
        {
            "en": "Add a 'preferred contact time' field to contacts",
            "nb": "Legg til feltet «foretrukket kontakttid» på kontakter",
            "fr": "Ajouter un champ « heure de contact préférée » aux contacts",
        },
        Stage.REQUESTED,
    ),
    Story(
        {
            "en": "Sync Outlook categories to CRM activities",
            "nb": "Synkroniser Outlook-kategorier til CRM-aktiviteter",
            "fr": "Synchroniser les catégories Outlook avec les activités CRM",
        },
        Stage.ASSESSMENT,
        scope=Scope.STANDARD,
        weeks_ago=2,
    ),
    Story(
        {
            "en": "Quarterly sales dashboard for the board",
            "nb": "Kvartalsvis salgsdashbord for styret",
            "fr": "Tableau de bord trimestriel des ventes pour la direction",
        },
        Stage.AWAITING_APPROVAL,
        urgent=True,
        weeks_ago=3,
    ),
    Story(
        {
            "en": "Automatic reminders for unpaid invoices",
            "nb": "Automatiske påminnelser om ubetalte fakturaer",
            "fr": "Relances automatiques des factures impayées",
        },
        Stage.APPROVED,
        weeks_ago=5,
    ),
    Story(
        {
            "en": "New quote template with the company's terms",
            "nb": "Ny tilbudsmal med selskapets vilkår",
            "fr": "Nouveau modèle de devis avec nos conditions générales",
        },
        Stage.TESTING,
        weeks_ago=7,
    ),
    Story(
        {
            "en": "Custom lead-scoring rules",
            "nb": "Egne regler for poengsetting av leads",
            "fr": "Règles personnalisées de notation des prospects",
        },
        Stage.IMPLEMENTATION,
        weeks_ago=8,
    ),
    Story(
        {
            "en": "Duplicate check on new contacts",
            "nb": "Duplikatkontroll av nye kontakter",
            "fr": "Contrôle des doublons à la création des contacts",
        },
        Stage.REVIEW,
        weeks_ago=10,
    ),
    Story(
        {
            "en": "Offline mode for the mobile app",
            "nb": "Frakoblet modus i mobilappen",
            "fr": "Mode hors ligne pour l'application mobile",
        },
        Stage.UNAPPROVED,
        scope=Scope.STANDARD,
        weeks_ago=6,
    ),
    Story(
        {
            "en": "Archive inactive accounts every year",
            "nb": "Arkiver inaktive kunder hvert år",
            "fr": "Archiver chaque année les comptes inactifs",
        },
        Stage.CLOSED,
        weeks_ago=12,
    ),
]
DESCRIPTION = {
    "en": "{title}. Requested by the sales team after the last quarterly review; please "
    "estimate the effort and tell us whether it is covered by the maintenance contract.",
    "nb": "{title}. Ønsket av salgsavdelingen etter forrige kvartalsgjennomgang; gi oss et "
    "estimat og si om det dekkes av vedlikeholdsavtalen.",
    "fr": "{title}. Demandé par l'équipe commerciale après la dernière revue trimestrielle ; "
    "merci d'estimer l'effort et de nous dire si la maintenance le couvre.",
}


def is_loaded(organisations) -> bool:
    return ChangeRequest.objects.filter(organisation__in=organisations).exists()


def _advance(
    change: ChangeRequest, *, to: Stage, agent: User, administrator: User, index: int, since: date
):
    """Take ``change`` (asked on ``since``) to stage ``to`` the way the desk and the
    administrator would."""
    if to == Stage.REQUESTED:
        return change
    target = Stage.AWAITING_APPROVAL if to == Stage.UNAPPROVED else to
    if to == Stage.APPROVED:
        go_live = clock.now().date() + timedelta(days=10)  # still to come
    else:
        go_live = since + timedelta(days=14)  # under way or done
    for stage in PATH[1 : PATH.index(target) + 1]:
        if stage == Stage.AWAITING_APPROVAL:
            change = services.update_change(
                change=change,
                by=agent,
                chargeable=index % 2 == 0,
                effort_hours=Decimal(8 + 4 * index),
                feasibility="Feasible with the standard customisation tools.",
                impact="Sales users; no change for the other teams.",
                risk="Low: tested on the test tenant first.",
                resources="One CRM consultant, one tester from the customer.",
            )
        if stage == Stage.APPROVED:
            change = services.decide(
                change=change, approved=True, by=administrator, comment="Go ahead."
            )
            change = services.update_change(change=change, by=agent, scheduled_for=go_live)
            done = {Stage.IMPLEMENTATION: 2, Stage.REVIEW: 3, Stage.CLOSED: 3}.get(to, 0)
            change = services.set_plan(change=change, steps=_plan(go_live, done), by=agent)
            continue
        if stage == Stage.REVIEW:
            change = services.update_change(
                change=change, by=agent, test_outcome="Accepted by the customer's testers."
            )
        if stage == Stage.CLOSED:
            change = services.update_change(
                change=change,
                by=agent,
                kpis_met=True,
                lessons_learned="Plan the customer's test days before the go-live date.",
            )
        if stage == Stage.TESTING and target != Stage.TESTING:
            continue  # straight from the schedule to the implementation
        change = services.move_stage(change=change, to=stage, by=agent)
    if to == Stage.UNAPPROVED:
        change = services.decide(
            change=change,
            approved=False,
            by=administrator,
            comment="Not this year: the budget is spent.",
        )
    return change


def _plan(go_live: date, done: int) -> list[services.Step]:
    """The implementation plan, its first ``done`` steps done."""
    steps = [
        ("Build on the test tenant", go_live - timedelta(days=7), "Erik Johansen"),
        ("Customer acceptance test", go_live - timedelta(days=3), "Sales team"),
        ("Go live and tell the users", go_live, "Erik Johansen"),
    ]
    return [
        services.Step(text, due_on, responsible, done=position < done)
        for position, (text, due_on, responsible) in enumerate(steps)
    ]


def _date_back(change: ChangeRequest, *, start: datetime, until: datetime, pace: int) -> None:
    """Spread the CR's events from ``start`` to before ``until``, ``pace`` hours apart at
    most, and date the record as they say (requested, asked, decided, closed): the past the
    services would have written."""
    events = list(ChangeEvent.objects.filter(change=change).order_by("at", "pk"))
    moments = sorted({e.at for e in events})  # the events of one change stay together
    step = min(timedelta(hours=pace), (until - start) / (len(moments) + 1))
    dated = {moment: start + step * position for position, moment in enumerate(moments)}
    fields: dict[str, datetime] = {}
    for event in events:
        event.at = dated[event.at]
        if event.kind == ChangeEventKind.APPROVAL_REQUESTED:
            fields["approval_requested_at"] = event.at
        if event.kind == ChangeEventKind.DECIDED:
            fields["decided_at"] = event.at
        if event.kind == ChangeEventKind.STAGE and event.new == Stage.CLOSED:
            fields["closed_at"] = event.at
    ChangeEvent.objects.bulk_update(events, ["at"])
    if change.ticket_id is None:
        fields["requested_at"] = start
    fields["updated_at"] = events[-1].at
    ChangeRequest.objects.filter(pk=change.pk).update(**fields)


@transaction.atomic
def load(organisations: list[Organisation]) -> int:
    """Add the demo CRs of ``organisations`` (once). Returns how many were added."""
    if is_loaded(organisations):
        return 0
    agent = User.objects.get(email=AGENT_EMAIL)
    products = list(Product.objects.order_by("pk"))
    last_mail = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    now = clock.now()
    added = 0
    for pace, organisation in enumerate(organisations, start=2):
        pace *= 9  # each organisation's administrator decides at their own pace (hours)
        contacts = list(organisation.contacts.filter(is_staff=False).order_by("pk"))
        administrator = next(c for c in contacts if c.customer_role == CustomerRole.CUSTOMER_ADMIN)
        requesters = [c for c in contacts if c.customer_role != CustomerRole.CUSTOMER_ADMIN]
        language = organisation.language if organisation.language in DESCRIPTION else "en"
        for index, story in enumerate(STORIES):
            title = story.titles.get(language, story.titles["en"])
            change = services.open_change(
                organisation=organisation,
                requester=requesters[index % len(requesters)],
                title=title,
                description=DESCRIPTION[language].format(title=title),
                by=agent,
                product=products[index % len(products)] if products else None,
                scope=story.scope,
                urgent=story.urgent,
            )
            start = now - timedelta(weeks=story.weeks_ago, hours=index)
            change = _advance(
                change,
                to=story.stage,
                agent=agent,
                administrator=administrator,
                index=index,
                since=start.date(),
            )
            _date_back(change, start=start, until=now - timedelta(hours=1), pace=pace)
            added += 1
        # One CR turned from a support ticket: the conversion, both ways linked.
        ticket = (
            Ticket.objects.filter(
                organisation=organisation, status__in=[Status.OPEN, Status.IN_PROGRESS]
            )
            .order_by("number")
            .first()
        )
        if ticket is not None:
            change = services.convert_ticket(ticket=ticket, by=agent, reason="")
            services.move_stage(change=change, to=Stage.ASSESSMENT, by=agent)
            added += 1
    # The demo's past mails nobody (see the module's docstring).
    OutboxMessage.objects.filter(pk__gt=last_mail).delete()
    return added
