"""`{{ p|probability }}`: the one probability format (ml.wording.format_probability) for templates."""

from django import template

from ml.wording import format_probability

register = template.Library()


@register.filter
def probability(value) -> str:
    return "" if value is None or value == "" else format_probability(float(value))
