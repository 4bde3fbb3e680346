"""Orders fixtures: a published schedule with two items, a member of its community."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import PickupPoint, ReviewStatus, User
from orders.models import Fulfilment, Order, PaymentMethod
from orders.services.ordering import order_place
from scheduling.models import Schedule, ScheduleItem
from scheduling.services import schedules as schedule_services
from tests.catalog.conftest import make_listed_offer, make_product
from tests.factories import (
    CommunityFactory,
    MembershipFactory,
    StaffFactory,
    SupplierFactory,
    UserFactory,
)
from tests.scheduling.conftest import item_fields, timeline


@dataclass
class Shop:
    schedule: Schedule
    grapes: ScheduleItem
    eggs: ScheduleItem
    point: PickupPoint
    member: User
    leader: User

    def order(self, member=None, *, quantities=None, method=PaymentMethod.ONLINE, **kw) -> Order:
        return order_place(
            member=member or self.member,
            schedule=self.schedule,
            quantities=quantities or {self.grapes.pk: 2, self.eggs.pk: 1},
            payment_method=method,
            fulfilment=kw.pop("fulfilment", Fulfilment.PICKUP),
            pickup_point=kw.pop("pickup_point", self.point),
            **kw,
        )

    def new_member(self) -> User:
        user = UserFactory()
        MembershipFactory(user=user, community=self.schedule.community)
        return user


def make_shop(*, community=None, grapes=None, eggs=None, **schedule_fields) -> Shop:
    community = community or CommunityFactory()
    leader = community.leader
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    staff = StaffFactory()
    grape_offer = make_listed_offer(supplier, staff, product=make_product(supplier))
    egg_offer = make_listed_offer(
        supplier,
        staff,
        product=make_product(supplier, name="土鸡蛋", name_en="Free-range eggs", spec="30 枚"),
    )
    point = community.pickup_points.first()
    fields = {**timeline(), "title": "周末水果团", **schedule_fields}
    schedule = schedule_services.schedule_create(
        community=community, actor=leader, pickup_points=[point], **fields
    )
    grapes_item = schedule_services.schedule_item_add(
        schedule=schedule, actor=leader, offer=grape_offer, **item_fields(**(grapes or {}))
    )
    eggs_item = schedule_services.schedule_item_add(
        schedule=schedule,
        actor=leader,
        offer=egg_offer,
        **item_fields(member_price=Decimal("29.90"), display_order=1, **(eggs or {})),
    )
    schedule_services.schedule_publish(schedule=schedule, actor=leader)
    member = UserFactory()
    MembershipFactory(user=member, community=community)
    schedule.refresh_from_db()
    return Shop(schedule, grapes_item, eggs_item, point, member, leader)


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()
