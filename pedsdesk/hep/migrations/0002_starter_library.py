from django.db import migrations


def load(apps, schema_editor):
    from pedsdesk.hep.actions import load_starter_library

    load_starter_library(apps.get_model("hep", "Activity"))


class Migration(migrations.Migration):
    dependencies = [("hep", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
