"""Leader order review pages (placeholder until the leader views land)."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


schedule_orders = orders_confirm = orders_export = order_detail = _todo
order_confirm = order_reject = _todo
