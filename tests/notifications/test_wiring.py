"""Where accounts events call notify(): supplier and leader reviews, joining a community."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ReviewStatus
from notifications.models import Broadcast, Channel, Delivery, Notification
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def _inbox(user, kind=None):
    notifications = Notification.objects.filter(recipient=user)
    if kind:
        notifications = notifications.filter(kind=kind)
    return notifications


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def supplier_team(db):
    """A pending supplier with its owner and one colleague."""
    owner = UserFactory(email="owner@example.com")
    supplier = SupplierFactory(owner=owner)
    colleague = UserFactory()
    services.supplier_member_add(supplier=supplier, actor=owner, login=colleague.phone)
    return supplier, [owner, colleague]


# Suppliers


def test_supplier_approval_tells_every_team_member(staff, supplier_team):
    supplier, team = supplier_team
    outsider = UserFactory()

    services.supplier_approve(supplier=supplier, actor=staff)

    broadcast = Broadcast.objects.get(kind="supplier_approved")
    assert broadcast.about == supplier
    assert broadcast.sender == staff
    assert broadcast.community is None
    assert broadcast.recipient_count == 2
    for user in team:
        notification = _inbox(user, "supplier_approved").get()
        assert notification.title == "Your supplier registration is approved"
        assert supplier.name in notification.body
        assert notification.link == reverse("accounts:supplier_home")
    assert not _inbox(outsider).exists()
    assert not _inbox(staff).exists()
    # SMS and e-mail by default, to whoever has the address.
    owner = team[0]
    assert set(
        Delivery.objects.filter(broadcast=broadcast, notification__recipient=owner).values_list(
            "channel", flat=True
        )
    ) == {Channel.SMS, Channel.EMAIL}


def test_supplier_rejection_tells_the_team_why(staff, supplier_team):
    supplier, team = supplier_team

    services.supplier_reject(supplier=supplier, actor=staff, reason="营业执照照片模糊。")

    for user in team:
        notification = _inbox(user, "supplier_rejected").get()
        assert "营业执照照片模糊。" in notification.body
        assert supplier.name in notification.body
        assert notification.link == reverse("accounts:supplier_status")
    assert not Notification.objects.filter(kind="supplier_approved").exists()


def test_refused_rejection_notifies_nobody(staff, supplier_team):
    from groupbuy.exceptions import DomainError

    supplier, _team = supplier_team

    with pytest.raises(DomainError):
        services.supplier_reject(supplier=supplier, actor=staff, reason="  ")

    assert not Notification.objects.exists()


def test_staff_approval_through_the_view_notifies(client, staff, supplier_team):
    supplier, team = supplier_team
    client.force_login(staff)

    response = client.post(reverse("accounts:staff_supplier_approve", args=[supplier.pk]))

    assert response.status_code == 302
    assert _inbox(team[1], "supplier_approved").count() == 1


# Leaders


def test_leader_approval_notifies_the_applicant_only(staff):
    applicant = UserFactory()
    community = CommunityFactory(leader=applicant, status=ReviewStatus.PENDING)
    existing_member = UserFactory()
    other = CommunityFactory()
    services.community_join(user=existing_member, community=other)

    services.community_approve(community=community, actor=staff)

    notification = _inbox(applicant, "leader_approved").get()
    assert community.name in notification.body
    assert notification.link == reverse("accounts:leader_home")
    assert notification.broadcast.about == community
    assert notification.broadcast.sender == staff
    assert (
        Notification.objects.filter(
            kind="leader_approved", broadcast__object_id=community.pk
        ).count()
        == 1
    )


def test_leader_rejection_tells_the_applicant_why(staff):
    applicant = UserFactory()
    community = CommunityFactory(leader=applicant, status=ReviewStatus.PENDING)

    services.community_reject(community=community, actor=staff, reason="自提点地址不完整。")

    notification = _inbox(applicant, "leader_rejected").get()
    assert "自提点地址不完整。" in notification.body
    assert community.name in notification.body
    assert not _inbox(applicant, "leader_approved").exists()
    assert not _inbox(applicant, "community_welcome").exists()


def test_leaders_own_membership_on_approval_sends_no_welcome(staff):
    applicant = UserFactory()
    community = CommunityFactory(leader=applicant, status=ReviewStatus.PENDING)

    services.community_approve(community=community, actor=staff)

    assert community.memberships.filter(user=applicant).exists()
    assert not Notification.objects.filter(kind="community_welcome").exists()
    assert list(_inbox(applicant).values_list("kind", flat=True)) == ["leader_approved"]


# Joining


def test_joining_sends_one_welcome_and_joining_again_none(db):
    community = CommunityFactory()
    member = UserFactory()

    services.community_join(user=member, community=community)
    services.community_join(user=member, community=community)

    welcome = _inbox(member, "community_welcome").get()
    assert welcome.title == f"Welcome to {community.name}"
    assert welcome.broadcast.community == community
    assert welcome.broadcast.about == community
    assert welcome.link == reverse("accounts:member_home")
    # Welcome goes by SMS only by default.
    assert list(welcome.deliveries.values_list("channel", flat=True)) == [Channel.SMS]


def test_joining_a_second_community_sends_its_own_welcome(db):
    first, second = CommunityFactory(), CommunityFactory()
    member = UserFactory()

    services.community_join(user=member, community=first)
    services.community_join(user=member, community=second)
    services.community_join(user=member, community=first)

    assert sorted(
        _inbox(member, "community_welcome").values_list("broadcast__community", flat=True)
    ) == sorted([first.pk, second.pk])


def test_leader_joining_own_community_again_gets_no_welcome(db):
    community = CommunityFactory()

    services.community_join(user=community.leader, community=community)

    assert not _inbox(community.leader, "community_welcome").exists()


def test_joining_through_the_invite_link_welcomes(client):
    community = CommunityFactory()
    member = UserFactory()
    client.force_login(member)
    url = reverse("accounts:invite", args=[community.invite_code])

    client.post(url)
    client.post(url)

    assert _inbox(member, "community_welcome").count() == 1


def test_welcome_is_not_sent_when_joining_a_closed_community(db):
    from groupbuy.exceptions import DomainError

    community = CommunityFactory(status=ReviewStatus.PENDING)
    member = UserFactory()

    with pytest.raises(DomainError):
        services.community_join(user=member, community=community)

    assert not _inbox(member).exists()
