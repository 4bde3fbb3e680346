"""factory-boy factories. Objects in a reviewed state are created through the services,
so the audit trail and side effects (the leader's own membership) match production."""

import factory

from accounts import services
from accounts.models import (
    Community,
    Membership,
    PickupPoint,
    ReviewStatus,
    SupplierMember,
    SupplierOrganization,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+86137{n:08d}")
    phone_verified = True
    display_name = factory.Sequence(lambda n: f"用户{n}")
    preferred_language = "en"
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True


def _staff_actor():
    return StaffFactory()


class SupplierFactory(factory.django.DjangoModelFactory):
    """A supplier organisation, pending by default; ``status=approved`` to approve it."""

    class Meta:
        model = SupplierOrganization

    name = factory.Sequence(lambda n: f"供应商{n}")
    licence_number = factory.Sequence(lambda n: f"91310000MA{n:08d}")
    contact_name = "张三"
    contact_phone = "+8613900001111"
    address = "上海市浦东新区"
    owner = factory.SubFactory(UserFactory)
    status = ReviewStatus.PENDING

    @classmethod
    def _create(cls, model_class, *args, owner, status, **kwargs):
        supplier = services.supplier_register(user=owner, **kwargs)
        if status == ReviewStatus.APPROVED:
            supplier = services.supplier_approve(supplier=supplier, actor=_staff_actor())
        elif status == ReviewStatus.REJECTED:
            supplier = services.supplier_reject(
                supplier=supplier, actor=_staff_actor(), reason="营业执照模糊"
            )
        return supplier


class CommunityFactory(factory.django.DjangoModelFactory):
    """A community with one pickup point, approved by default (its leader is a leader)."""

    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"小区{n}")
    area = "浦东新区 花木街道"
    contact_phone = "+8613900002222"
    description = ""
    leader = factory.SubFactory(UserFactory)
    status = ReviewStatus.APPROVED

    @classmethod
    def _create(cls, model_class, *args, leader, status, **kwargs):
        community = services.community_apply(
            user=leader,
            pickup_points=[
                {
                    "name": "1 号楼大堂",
                    "address": "花木路 100 弄 1 号楼",
                    "opening_hours": "每天 15:00-21:00",
                    "contact_phone": "+8613900003333",
                }
            ],
            **kwargs,
        )
        if status == ReviewStatus.APPROVED:
            community = services.community_approve(community=community, actor=_staff_actor())
        elif status == ReviewStatus.REJECTED:
            community = services.community_reject(
                community=community, actor=_staff_actor(), reason="自提点信息不全"
            )
        return community


class PickupPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PickupPoint

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"自提点{n}")
    address = "花木路 1 号"
    opening_hours = "每天 09:00-21:00"
    contact_phone = "+8613900004444"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)

    @classmethod
    def _create(cls, model_class, *args, user, community, **kwargs):
        return services.community_join(user=user, community=community)


__all__ = [
    "CommunityFactory",
    "MembershipFactory",
    "PickupPointFactory",
    "StaffFactory",
    "SupplierFactory",
    "SupplierMember",
    "UserFactory",
]
