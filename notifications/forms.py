from django import forms
from django.utils.translation import gettext_lazy as _


class AnnouncementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(
        label=_("Message"), max_length=1000, widget=forms.Textarea(attrs={"rows": 5})
    )


class PreferencesForm(forms.Form):
    """Two checkboxes per kind: ``<kind>__sms`` and ``<kind>__email``."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            code = row["kind"].code
            self.fields[f"{code}__sms"] = forms.BooleanField(
                label=_("SMS"), required=False, initial=row["sms"]
            )
            self.fields[f"{code}__email"] = forms.BooleanField(
                label=_("E-mail"), required=False, initial=row["email"]
            )

    def choices(self) -> dict[str, dict[str, bool]]:
        return {
            row["kind"].code: {
                "sms": self.cleaned_data[f"{row['kind'].code}__sms"],
                "email": self.cleaned_data[f"{row['kind'].code}__email"],
            }
            for row in self.rows
        }

    def table(self):
        return [
            {
                "kind": row["kind"],
                "sms": self[f"{row['kind'].code}__sms"],
                "email": self[f"{row['kind'].code}__email"],
            }
            for row in self.rows
        ]
