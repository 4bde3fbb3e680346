"""Placeholder until the pages land."""

from django.http import Http404


def todo(request, *args, **kwargs):
    raise Http404
