from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0007_sweep_shards'),
    ]

    operations = [
        migrations.AlterField(
            model_name='alertrule',
            name='kind',
            field=models.CharField(choices=[('node_down', 'Node down or answering garbage'), ('not_confirmed', 'Node not CONFIRMED'), ('benchmark_failed', 'Benchmark failed'), ('height_behind', 'Block height behind by N blocks'), ('maintenance_low', 'Maintenance window under N minutes'), ('version_behind', "FluxOS version behind the fleet's newest"), ('app_expires', 'App expires within N days'), ('app_instances_low', 'App runs fewer instances than it wants'), ('app_down', 'App is down everywhere'), ('backup_failed', 'Backup failed or not verified')], max_length=32),
        ),
    ]
