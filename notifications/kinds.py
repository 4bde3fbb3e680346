"""The kinds of notice the platform sends, and the channels each uses by default.

Each kind renders ``templates/notifications/<code>/title.txt`` and ``body.txt`` in the
recipient's language. Later stages register their kinds here.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Channel


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: Promise
    # Channels besides the in-app inbox (always written), unless the member chose otherwise.
    default_channels: frozenset[str]
    # Community-wide notices also post one message to the community's WeChat Work group.
    community_wide: bool = False


_SMS_ONLY = frozenset({Channel.SMS})
_SMS_AND_EMAIL = frozenset({Channel.SMS, Channel.EMAIL})

KINDS: dict[str, NotificationKind] = {}


def register(kind: NotificationKind) -> NotificationKind:
    KINDS[kind.code] = kind
    return kind


SUPPLIER_APPROVED = register(
    NotificationKind("supplier_approved", _("Supplier registration approved"), _SMS_AND_EMAIL)
)
SUPPLIER_REJECTED = register(
    NotificationKind("supplier_rejected", _("Supplier registration rejected"), _SMS_AND_EMAIL)
)
LEADER_APPROVED = register(
    NotificationKind("leader_approved", _("Leader application approved"), _SMS_AND_EMAIL)
)
LEADER_REJECTED = register(
    NotificationKind("leader_rejected", _("Leader application rejected"), _SMS_AND_EMAIL)
)
COMMUNITY_WELCOME = register(
    NotificationKind("community_welcome", _("Welcome to a community"), _SMS_ONLY)
)
COMMUNITY_ANNOUNCEMENT = register(
    NotificationKind("community_announcement", _("Announcement from your leader"), _SMS_ONLY, True)
)


def get_kind(code: str) -> NotificationKind:
    return KINDS[code]
