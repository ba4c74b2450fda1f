"""Site-wide login requirement for the agent-facing front end."""

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware


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
