from django.db import migrations

REVIEWERS_GROUP = "reviewers"  # frozen copy: migrations must not import app code


def create_reviewers_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name=REVIEWERS_GROUP)


def remove_reviewers_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=REVIEWERS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_reviewers_group, remove_reviewers_group)]
