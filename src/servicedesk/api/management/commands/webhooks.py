"""``servicedesk webhooks resend [--all-failed | ID ...]``: send failed deliveries again."""

from django.core.management.base import BaseCommand, CommandError

from servicedesk.api import webhooks
from servicedesk.api.models import WebhookDelivery


class Command(BaseCommand):
    help = "Webhook deliveries: send failed ones again."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        resend = actions.add_parser(
            "resend",
            help="send failed deliveries again, as they were (same webhook id), with a fresh "
            "series of attempts",
        )
        resend.add_argument("ids", nargs="*", type=int, metavar="ID", help="delivery ids")
        resend.add_argument("--all-failed", action="store_true", help="every failed delivery")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _resend(self, *, ids: list[int], all_failed: bool, **_):
        if bool(ids) == all_failed:
            raise CommandError("Give the ids of the deliveries to send again, or --all-failed.")
        if ids:
            found = WebhookDelivery.objects.filter(pk__in=ids).values_list("pk", flat=True)
            unknown = set(ids) - set(found)
            if unknown:
                raise CommandError(f"No webhook delivery {', '.join(map(str, sorted(unknown)))}.")
        requeued = webhooks.resend(ids=ids or None)
        rows = WebhookDelivery.objects.filter(pk__in=requeued).select_related("webhook")
        for row in rows.order_by("pk"):
            self.stdout.write(f"queued again {row.pk:<8} {row.event:<22} {row.webhook.url}")
        for pk in sorted(set(ids) - set(requeued)):
            self.stdout.write(f"left alone   {pk:<8} (it has not failed)")
        self.stdout.write(f"{len(requeued)} deliveries queued again.")
