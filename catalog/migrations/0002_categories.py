from django.db import migrations

from catalog.categories import DEFAULT_CATEGORIES as CATEGORIES



def add_categories(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    for position, (code, name, name_en) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
