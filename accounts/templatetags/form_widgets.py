from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def as_bootstrap(field: BoundField, css_class: str = "form-control") -> SafeString:
    """Render a field's widget with Bootstrap's class, keeping Django's own attributes."""
    classes = css_class + (" is-invalid" if field.errors else "")
    return field.as_widget(attrs={"class": classes})
