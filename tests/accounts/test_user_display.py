import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_without_a_display_name_shows_a_masked_phone():
    user = UserFactory(display_name="", phone="+8613812345678")
    assert str(user) == "+86138****5678"
    assert "12345678" not in str(user)


def test_display_name_wins():
    assert str(UserFactory(display_name="王阿姨")) == "王阿姨"
