from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from kb_site import builtin_reports, health_views, inbox
from kb_site.lockouts import SiteLoginForm

urlpatterns = [
    *builtin_reports.urlpatterns,  # before Wagtail's own, at the same paths
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="account/login.html",
            authentication_form=SiteLoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", include("search.urls")),
    path("procedures/", include("procedures.urls")),
    path("training/", include("training.urls")),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read/", inbox.mark_read, name="inbox_read"),
    # The inbox is site-wide now; the follow-ups' old address still leads there.
    path("followups/inbox/", RedirectView.as_view(pattern_name="inbox"), name="followups_inbox_moved"),
    path("followups/", include("followups.urls")),
    path("feedback/", include("feedback.urls")),
    path("health/", health_views.dashboard, name="health"),
    path("changes/", include("changes.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
