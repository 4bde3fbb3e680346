"""Forms of the member feedback pages and the leader's replies."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        error_messages={"required": _("Write something first.")},
    )
    # Empty for a comment on the whole schedule.
    item = forms.IntegerField(required=False, widget=forms.HiddenInput)


class WishForm(forms.Form):
    text = forms.CharField(
        label=_("I would like"),
        max_length=200,
        help_text=_("A product you would like your leader to offer."),
        error_messages={"required": _("Tell your leader what you would like.")},
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        error_messages={"required": _("Write a reply first.")},
    )
