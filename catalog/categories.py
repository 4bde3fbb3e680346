"""The platform's default product categories (code, Chinese name, English name)."""

DEFAULT_CATEGORIES = [
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
