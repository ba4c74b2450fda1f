"""Phone numbers in follow-up lists are masked (138****5678): a queue is on screens others walk past;
the full number is on the detail page, for those who may work the follow-up."""

import re

__all__ = ["looks_like_phone", "mask_phone", "mask_text"]

# A mainland mobile (optionally +86 / 86), or a landline with its area code: 7 to 12 digits in all,
# spaces and dashes allowed between groups.
PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(?:1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}[ -]?\d{7,8})(?!\d)")


def looks_like_phone(value):
    return bool(PHONE.fullmatch(str(value).strip()))


def _mask(match):
    digits = re.sub(r"\D", "", match.group(0))
    if digits.startswith("86") and len(digits) > 11:
        digits = digits[2:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_phone(value):
    """``13812345678`` → ``138****5678``; anything else as it is."""
    return PHONE.sub(_mask, str(value)) if looks_like_phone(value) else value


def mask_text(value):
    """Every phone number inside a text masked."""
    return PHONE.sub(_mask, str(value))
