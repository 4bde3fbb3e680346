from django.utils.translation import gettext_lazy as _

from notifications.kinds import NotificationKind, register
from notifications.models import Channel

_SMS = frozenset({Channel.SMS})
_NONE = frozenset()

for code, label, channels in (
    ("order_paid", _("Order paid"), _NONE),
    ("order_confirmed", _("Order confirmed by the leader"), _SMS),
    ("order_rejected", _("Order rejected by the leader"), _SMS),
    ("order_cancelled", _("Order cancelled"), _SMS),
    ("order_item_failed", _("An item did not reach its minimum group quantity"), _SMS),
    ("order_item_unavailable", _("An item cannot be delivered"), _SMS),
    ("order_shortage", _("Part of your order did not arrive"), _SMS),
    ("order_refunded", _("Refund sent"), _SMS),
    ("order_refund_failed", _("A refund could not be sent"), frozenset({Channel.EMAIL})),
):
    register(NotificationKind(code, label, channels))
