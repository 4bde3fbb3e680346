from django.utils.translation import gettext_lazy as _

from notifications.kinds import NotificationKind, register
from notifications.models import Channel

_SMS = frozenset({Channel.SMS})
_EMAIL = frozenset({Channel.EMAIL})
_SMS_AND_EMAIL = frozenset({Channel.SMS, Channel.EMAIL})

for code, label, channels in (
    ("proposal_received", _("New proposal from a leader"), _SMS_AND_EMAIL),
    ("proposal_countered", _("Counter-proposal"), _SMS_AND_EMAIL),
    ("proposal_accepted", _("Proposal accepted"), _SMS_AND_EMAIL),
    ("proposal_declined", _("Proposal declined"), _EMAIL),
    ("proposal_withdrawn", _("Proposal withdrawn"), _EMAIL),
):
    register(NotificationKind(code, label, channels))

SCHEDULE_PUBLISHED = register(
    NotificationKind("schedule_published", _("New group buy in your community"), _SMS, True)
)
SCHEDULE_CHANGED = register(
    NotificationKind("schedule_changed", _("A group buy changed"), frozenset(), False)
)
