"""(being written)"""

from django.http import Http404


def _missing(request, *args, **kwargs):
    raise Http404


dashboard = sign_off_queue = trainee = change_status = grant_licence = _missing
