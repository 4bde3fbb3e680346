"""Member order pages (placeholder until the member views land)."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


checkout = order_list = order_detail = order_status = order_pay = order_cancel = _todo
