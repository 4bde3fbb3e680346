from django import template

register = template.Library()


@register.filter
def label_of(value, choices):
    """The human label of a stored choice value: ``{{ change.to_state|label_of:status_labels }}``."""
    return dict(choices).get(value, value)
