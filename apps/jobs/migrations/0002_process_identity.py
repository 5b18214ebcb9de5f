"""One heartbeat row per worker process start (issue 10 F7).

The old table was keyed by host name, so a restarted worker's heartbeat hid its dead predecessor.
Heartbeat rows are only recent signs of life (rewritten every few seconds), so the table is
simply recreated.
"""
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="ProcessHeartbeat"),
        migrations.CreateModel(
            name="ProcessHeartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("identity", models.CharField(max_length=200, unique=True)),
                ("hostname", models.CharField(max_length=200)),
                ("pid", models.PositiveIntegerField(default=0)),
                ("role", models.CharField(choices=[("worker", "Worker"), ("beat", "Beat")], max_length=16)),
                ("last_seen", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "indexes": [models.Index(fields=["hostname", "started_at"], name="heartbeat_host_started")],
            },
        ),
    ]
