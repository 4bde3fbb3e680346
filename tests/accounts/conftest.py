"""Users holding each role, shared by the accounts tests."""

import pytest

from accounts.models import ReviewStatus
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory


@pytest.fixture
def member(db):
    """A signed-up user holding only the member role."""
    return UserFactory()


@pytest.fixture
def community(db):
    """An approved community; its leader holds the leader role."""
    return CommunityFactory()


@pytest.fixture
def leader(community):
    return community.leader


@pytest.fixture
def supplier(db):
    """An approved supplier organisation."""
    return SupplierFactory(status=ReviewStatus.APPROVED)


@pytest.fixture
def supplier_user(supplier):
    """The owner of an approved supplier; holds the supplier role."""
    return supplier.members.get(is_owner=True).user


@pytest.fixture
def staff(db):
    return StaffFactory()
