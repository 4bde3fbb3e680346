"""Demo accounts for the embedded mode (seed_demo)."""

from accounts import services
from accounts.models import Community, ReviewStatus, SupplierOrganization, User

DEMO_PASSWORD = "tuangou-demo"

STAFF = {
    "email": "staff@tuangou.local",
    "phone": "+8613900000000",
    "display_name": "平台审核员 Staff",
}
SUPPLIERS = [
    {
        "user": {
            "email": "supplier1@tuangou.local",
            "phone": "+8613900000011",
            "display_name": "鲜丰果业 Zhang",
        },
        "company": {
            "name": "鲜丰果业有限公司",
            "licence_number": "91310115MA1H7XYZ01",
            "contact_name": "张经理",
            "contact_phone": "+8613900000011",
            "address": "上海市浦东新区川沙路 1 号",
        },
        "status": ReviewStatus.APPROVED,
    },
    {
        "user": {
            "email": "supplier2@tuangou.local",
            "phone": "+8613900000012",
            "display_name": "绿源蔬菜 Li",
        },
        "company": {
            "name": "绿源蔬菜合作社",
            "licence_number": "93310117MA1K2ABC02",
            "contact_name": "李社长",
            "contact_phone": "+8613900000012",
            "address": "上海市松江区泖港镇 8 号",
        },
        "status": ReviewStatus.APPROVED,
    },
    {
        "user": {
            "email": "supplier3@tuangou.local",
            "phone": "+8613900000013",
            "display_name": "海鲜码头 Wang",
        },
        "company": {
            "name": "海鲜码头水产行",
            "licence_number": "92310107MA1P9DEF03",
            "contact_name": "王老板",
            "contact_phone": "+8613900000013",
            "address": "上海市普陀区铜川路 99 号",
        },
        "status": ReviewStatus.PENDING,
    },
]
LEADERS = [
    {
        "user": {
            "email": "leader1@tuangou.local",
            "phone": "+8613900000021",
            "display_name": "花木团长 Chen",
        },
        "community": {
            "name": "花木小区团购群",
            "area": "浦东新区 花木街道",
            "contact_phone": "+8613900000021",
            "description": "每天 23:00 截单，次日下午到货。",
        },
        "points": [
            {
                "name": "1 号楼大堂",
                "address": "花木路 100 弄 1 号楼",
                "opening_hours": "每天 15:00-21:00",
                "contact_phone": "+8613900000021",
            },
            {
                "name": "便利店代收点",
                "address": "花木路 102 号 全家便利店",
                "opening_hours": "每天 08:00-22:00",
                "contact_phone": "+8613900000031",
            },
        ],
        "status": ReviewStatus.APPROVED,
    },
    {
        "user": {
            "email": "leader2@tuangou.local",
            "phone": "+8613900000022",
            "display_name": "古北团长 Liu",
        },
        "community": {
            "name": "古北邻里团",
            "area": "长宁区 虹桥街道",
            "contact_phone": "+8613900000022",
            "description": "",
        },
        "points": [
            {
                "name": "会所前台",
                "address": "黄金城道 600 号 会所",
                "opening_hours": "每天 10:00-20:00",
                "contact_phone": "+8613900000022",
            },
        ],
        "status": ReviewStatus.APPROVED,
    },
    {
        "user": {
            "email": "leader3@tuangou.local",
            "phone": "+8613900000023",
            "display_name": "新团长 Zhao",
        },
        "community": {
            "name": "张江人才公寓团",
            "area": "浦东新区 张江镇",
            "contact_phone": "+8613900000023",
            "description": "待审核的申请",
        },
        "points": [
            {
                "name": "公寓门卫室",
                "address": "张江路 500 号",
                "opening_hours": "每天 09:00-21:00",
                "contact_phone": "+8613900000023",
            },
        ],
        "status": ReviewStatus.PENDING,
    },
]
MEMBER_COUNT = 20


def _user(*, email=None, phone, display_name, password=None, is_staff=False):
    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=password,
            phone=phone,
            display_name=display_name,
            is_staff=is_staff,
            is_superuser=is_staff,
        )
    user.phone_verified = True
    user.save(update_fields=["phone_verified"])
    return user


def seed_accounts() -> dict:
    """Staff, suppliers, leaders with communities and members; safe to run again."""
    staff = _user(**STAFF, password=DEMO_PASSWORD, is_staff=True)

    suppliers = []
    for spec in SUPPLIERS:
        user = _user(**spec["user"], password=DEMO_PASSWORD)
        supplier = SupplierOrganization.objects.filter(
            licence_number=spec["company"]["licence_number"]
        ).first()
        if supplier is None:
            supplier = services.supplier_register(user=user, **spec["company"])
        if spec["status"] == ReviewStatus.APPROVED and supplier.status == ReviewStatus.PENDING:
            supplier = services.supplier_approve(supplier=supplier, actor=staff)
        suppliers.append(supplier)

    communities = []
    for spec in LEADERS:
        user = _user(**spec["user"], password=DEMO_PASSWORD)
        community = Community.objects.filter(leader=user, name=spec["community"]["name"]).first()
        if community is None:
            community = services.community_apply(
                user=user, pickup_points=spec["points"], **spec["community"]
            )
        if spec["status"] == ReviewStatus.APPROVED and community.status == ReviewStatus.PENDING:
            community = services.community_approve(community=community, actor=staff)
        if community.status == ReviewStatus.APPROVED:
            communities.append(community)

    members = []
    for number in range(1, MEMBER_COUNT + 1):
        member = _user(phone=f"+86138000000{number:02d}", display_name=f"团员{number:02d}")
        services.community_join(user=member, community=communities[(number - 1) % len(communities)])
        members.append(member)
    # One member shops in both communities, to show the community switch.
    services.community_join(user=members[0], community=communities[1])
    services.community_set_current(user=members[0], community=communities[0])
    return {"staff": staff, "suppliers": suppliers, "communities": communities}
