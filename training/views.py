"""(being written)"""

from django.http import Http404


def _missing(request, *args, **kwargs):
    raise Http404


my_training = to_confirm = confirm_read = request_sign_off = card_detail = start_card_practice = (
    practice_feedback
) = _missing
