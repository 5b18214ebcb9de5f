"""Invitation tokens: looked up by digest, kept encrypted (they were stored in clear)."""
import hashlib

from django.db import migrations, models

from fluxpanel import vault


def seal_tokens(apps, schema_editor):
    Invitation = apps.get_model("accounts", "Invitation")
    for invitation in Invitation.objects.all():
        invitation.token_digest = hashlib.sha256(invitation.token.encode()).hexdigest()
        invitation.token_sealed = vault.encrypt(invitation.token, purpose="invitation")
        invitation.save(update_fields=["token_digest", "token_sealed"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_audit_flow")]

    operations = [
        migrations.AddField("invitation", "token_digest", models.CharField(max_length=64, null=True)),
        migrations.AddField("invitation", "token_sealed", models.TextField(default="")),
        migrations.RunPython(seal_tokens, migrations.RunPython.noop),
        migrations.RemoveField("invitation", "token"),
        migrations.AlterField("invitation", "token_digest", models.CharField(max_length=64, unique=True)),
        migrations.AlterField("invitation", "token_sealed", models.TextField()),
    ]
