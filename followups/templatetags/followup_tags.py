from django import template

from ..masking import mask_text

register = template.Library()


@register.filter
def masked(value):
    """Phone numbers in ``value`` shown as 138****5678."""
    return mask_text(value) if value not in (None, "") else value


@register.filter
def customer_line(customer, limit=3):
    """A follow-up's customer values on one line, phone numbers masked: ``客户称呼：王女士 · 手机：138****5678``."""
    if not isinstance(customer, dict):
        return ""
    parts = [f"{name}：{mask_text(value)}" for name, value in customer.items() if value not in (None, "")]
    return " · ".join(parts[: int(limit)])
