from django.db import migrations

CATEGORIES = [
    ("fruit", "水果", "Fruit"),
    ("vegetables", "蔬菜", "Vegetables"),
    ("meat-eggs", "肉禽蛋", "Meat and eggs"),
    ("seafood", "水产海鲜", "Seafood"),
    ("dairy-bakery", "乳品烘焙", "Dairy and bakery"),
    ("frozen", "速冻食品", "Frozen food"),
    ("grain-oil", "米面粮油", "Rice, flour and oil"),
    ("snacks-drinks", "休闲零食饮料", "Snacks and drinks"),
    ("household", "日用百货", "Household"),
]


def add_categories(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    for position, (code, name, name_en) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
