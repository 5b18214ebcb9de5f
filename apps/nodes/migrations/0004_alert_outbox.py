"""The alert outbox: deliveries are claimed (claimed_at) and marked sent (sent_at) by a sender.

Rows that exist already were sent (or muted) by the old in-sweep delivery, so they are marked sent
at their creation time: the new sender must not send them again.
"""

from django.db import migrations, models
from django.db.models import F


def mark_existing_sent(apps, schema_editor):
    AlertDelivery = apps.get_model("nodes", "AlertDelivery")
    AlertDelivery.objects.filter(sent_at__isnull=True).update(sent_at=F("created_at"), claimed_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("nodes", "0003_drop_unused_alerts_processed"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertdelivery",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_existing_sent, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="alertdelivery",
            index=models.Index(
                condition=models.Q(("muted", False), ("sent_at__isnull", True)),
                fields=["created_at"],
                name="alert_delivery_pending",
            ),
        ),
    ]
