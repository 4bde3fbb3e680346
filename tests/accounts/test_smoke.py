import pytest

from accounts.models import ReviewStatus
from tests.factories import CommunityFactory, MembershipFactory, SupplierFactory


@pytest.mark.django_db
def test_factories_build_each_role():
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    community = CommunityFactory()
    membership = MembershipFactory(community=community)
    assert supplier.status == ReviewStatus.APPROVED
    assert community.status == ReviewStatus.APPROVED
    assert community.memberships.filter(user=community.leader).exists()
    assert membership.user.current_community == community
