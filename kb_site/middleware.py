"""Site-wide login requirement for the agent-facing front end; tampered admin requests answered 400."""

import logging

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.paginator import InvalidPage
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse_lazy

logger = logging.getLogger(__name__)


class SiteLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every front-end page needs a login; anonymous users go to the login page and come back.

    The Wagtail admin has its own login flow (and its own login page, which must stay
    reachable), and static files are public assets, so both are left to themselves.
    Views can opt out with Django's ``login_not_required`` decorator.
    """

    exempt_prefixes = ("/admin/", settings.STATIC_URL)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(self.exempt_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class AdminBadRequestMiddleware:
    """A tampered request to a Wagtail admin view is a 400 with a message, not a 500.

    Some of Wagtail's own admin views trust their input: a chooser's ``chosen`` view given a
    non-numeric id, an editor POST missing a formset's count, a page number like ``1e1000000`` or a
    30-digit id on SQLite raise ``ValueError``, ``MultiValueDictKeyError`` or ``OverflowError``, a
    chooser's create view posted without its form ``AttributeError``, a workflow form posted with ``x``
    as its tasks' ids ``ValidationError``; a revision 0 or a page -1 raise
    ``DoesNotExist`` / ``EmptyPage``, which become a 404 (all measured by ``bench/hostile.py``). Only an
    admin user can send these, and only by hand; the answer is 400 with a Chinese message, and the
    traceback is still logged (at ERROR) so that a real defect is seen. The project's own views validate their input through forms instead.
    """

    exceptions = (ValueError, OverflowError, KeyError, AttributeError, TypeError, ValidationError)
    not_found = (ObjectDoesNotExist, InvalidPage)

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = reverse_lazy("wagtailadmin_home")

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith(str(self.prefix)):
            return None
        if isinstance(exception, self.not_found):  # a revision 0, a copy to a missing parent, page -1
            raise Http404(str(exception)) from exception
        if not isinstance(exception, self.exceptions):
            return None
        logger.error("Bad request to %s answered 400", request.path, exc_info=exception)
        return render(request, "400.html", status=400)
