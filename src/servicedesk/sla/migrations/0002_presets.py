"""Ship the calendar and policy presets. The S4 desk calendar and the S4 policy are the
defaults after install."""

from datetime import time, timedelta

from django.db import migrations

H = timedelta(hours=1)
MIDNIGHT = time(0)

CALENDARS = {
    # name: (timezone, holiday country, subdivision, {weekday: [(opens, closes), ...]})
    "S4 desk (UK)": ("Europe/London", "GB", "ENG", {
        **{d: [(time(8, 30), time(17))] for d in range(4)}, 4: [(time(8, 30), time(16))],
    }),
    "Norwegian desk": ("Europe/Oslo", "NO", "", {d: [(time(8), time(16))] for d in range(5)}),
    "French desk": ("Europe/Paris", "FR", "", {
        d: [(time(9), time(12, 30)), (time(13, 30), time(18))] for d in range(5)
    }),
    "24×7": ("UTC", "", "", {d: [(MIDNIGHT, MIDNIGHT)] for d in range(7)}),
}

POLICIES = {
    # name: (calendar, default?, [(priority, first response, follow-up, resolution, own calendar)])
    "S4 triage SLA": ("S4 desk (UK)", True, [
        ("medium", 4 * H, 48 * H, None, None),
        ("high", 2 * H, 24 * H, None, None),
        ("critical", 1 * H, 3 * H, None, "24×7"),
    ]),
    "S1 resolution SLA": ("S4 desk (UK)", False, [
        ("immediate", None, None, 2 * H, "24×7"),
        ("high", None, None, 4 * H, None),
        ("medium", None, None, 8 * H, None),
        ("low", None, None, 24 * H, None),
    ]),
}


def seed(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    OpeningHours = apps.get_model("sla", "OpeningHours")
    Policy = apps.get_model("sla", "Policy")
    PolicyTarget = apps.get_model("sla", "PolicyTarget")
    calendars = {}
    for name, (tz, country, subdivision, weekly) in CALENDARS.items():
        calendar, created = Calendar.objects.get_or_create(
            name=name, defaults={"timezone": tz, "holiday_country": country, "holiday_subdivision": subdivision}
        )
        calendars[name] = calendar
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(calendar=calendar, weekday=day, opens=opens, closes=closes)
                for day, spans in weekly.items() for opens, closes in spans
            )
    for name, (calendar_name, is_default, targets) in POLICIES.items():
        policy, created = Policy.objects.get_or_create(
            name=name, defaults={"calendar": calendars[calendar_name], "is_default": is_default}
        )
        if created:
            PolicyTarget.objects.bulk_create(
                PolicyTarget(policy=policy, priority=priority, first_response=first, follow_up=follow,
                             resolution=resolution, calendar=calendars[own] if own else None)
                for priority, first, follow, resolution, own in targets
            )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
