from django.utils.translation import gettext_lazy as _

from notifications.kinds import NotificationKind, register
from notifications.models import Channel

_SMS_AND_EMAIL = frozenset({Channel.SMS, Channel.EMAIL})
_EMAIL = frozenset({Channel.EMAIL})

OFFER_APPROVED = register(NotificationKind("offer_approved", _("Offer approved"), _EMAIL))
OFFER_REJECTED = register(NotificationKind("offer_rejected", _("Offer rejected"), _EMAIL))
OFFER_CHANGES_REQUESTED = register(
    NotificationKind("offer_changes_requested", _("Offer needs changes"), _EMAIL)
)
OFFER_SUSPENDED = register(
    NotificationKind("offer_suspended", _("Offer suspended"), _SMS_AND_EMAIL)
)
OFFER_REINSTATED = register(NotificationKind("offer_reinstated", _("Offer reinstated"), _EMAIL))
CONTRACT_ISSUED = register(
    NotificationKind("contract_issued", _("Supply contract to sign"), _SMS_AND_EMAIL)
)
CONTRACT_ENDED = register(
    NotificationKind("contract_ended", _("Supply contract ended"), _SMS_AND_EMAIL)
)
