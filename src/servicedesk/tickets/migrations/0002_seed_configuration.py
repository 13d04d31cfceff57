"""Seed a fresh desk: the S4 priority bands, the ticket number sequence, and the three
support-level groups, the first of which receives new tickets."""

from django.db import migrations

S4_BANDS = [("medium", "Medium", 1, 7), ("high", "High", 8, 11), ("critical", "Critical", 12, 16)]
GROUPS = [("First line", "L1", True), ("CRM specialists", "L2", False), ("Development", "L3", False)]


def seed(apps, schema_editor):
    PriorityBand = apps.get_model("tickets", "PriorityBand")
    NumberSequence = apps.get_model("tickets", "NumberSequence")
    Group = apps.get_model("accounts", "Group")
    if not PriorityBand.objects.exists():
        PriorityBand.objects.bulk_create(
            PriorityBand(key=k, label=label, min_score=lo, max_score=hi) for k, label, lo, hi in S4_BANDS
        )
    NumberSequence.objects.get_or_create(name="ticket", defaults={"last_value": 10000})
    if not Group.objects.exists():
        Group.objects.bulk_create(
            Group(name=name, level=level, is_default_intake=intake) for name, level, intake in GROUPS
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
