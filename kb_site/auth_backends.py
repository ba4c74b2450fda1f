"""Django's model backend, reading a user's permissions in one query instead of two.

Every front-end page checks a few permissions (the header's links, ``perms`` in templates); the first
check reads them all for the request. Django reads the user's own and their groups' permissions in two
queries; here one ``UNION`` reads both. Same result, still read once per request (``_perm_cache``). The session's
user is read in a statement written out once (``get_user``).
"""

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Permission

from procedures.statements import Rows


class ModelBackend(backends.ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if hasattr(user_obj, "_perm_cache") or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        columns = ("content_type__app_label", "codename")
        own = self._get_user_permissions(user_obj).values_list(*columns).order_by()
        groups = Permission.objects.filter(group__user=user_obj).values_list(*columns).order_by()
        user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in own.union(groups)}
        return user_obj._perm_cache

    def get_user(self, user_id):
        """The session's user, read on every request in a statement written out once
        (``procedures.statements``) rather than built by the ORM each time; as Django's: None for a user
        gone or inactive."""
        user = _USER.first(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


_USER = Rows(get_user_model(), (get_user_model()._meta.pk.name,))
