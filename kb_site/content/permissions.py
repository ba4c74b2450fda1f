"""Permission policies that make Wagtail's documents and images follow Callbook's roles.

Wagtail's ``CollectionOwnershipPermissionPolicy`` treats "delete" as "change": whoever may edit a
document or image (``change`` on its collection, or ``add`` and being its uploader) may delete it.
Callbook's roles (``roles.py``) let 培训师 add and edit documents and images and keep deleting for
主管, who hold the model permission ``delete_document`` / ``delete_image``. ``RoleCollectionPolicy``
asks for that permission on top of Wagtail's rule for "change"; every other answer is Wagtail's.

The policies are registered in ``ContentConfig.ready()`` for the exact document and image models,
which takes precedence over what ``wagtail.documents`` and ``wagtail.images`` register whatever the
order of ``INSTALLED_APPS``. Wagtail reads the policy from its registry everywhere (listings, edit
pages and their delete buttons, delete views, bulk actions, choosers, multiple upload, the API), so
the rule holds on every path without overriding a view.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from wagtail.documents import get_document_model, get_document_model_string
from wagtail.images import get_image_model, get_image_model_string
from wagtail.permission_policies.collections import CollectionOwnershipPermissionPolicy
from wagtail.permissions import register_permission_policy

DELETE = "delete"


class RoleCollectionPolicy(CollectionOwnershipPermissionPolicy):
    """Wagtail's collection-ownership policy, except that deleting also needs the model's
    ``delete_<model>`` permission (a 主管's), not just the right to edit the instance."""

    def user_may_delete(self, user):
        """Whether the user holds the delete permission at all (superusers hold every permission)."""
        return user.is_active and user.has_perm(self._get_permission_name(DELETE))

    def _allowed_actions(self, user, actions):
        actions = set(actions)
        if DELETE in actions and not self.user_may_delete(user):
            actions.discard(DELETE)
        return actions

    def _delete_holders(self):
        return self._get_users_with_any_permission_codenames_filter([self._get_permission_codename(DELETE)])

    def user_has_permission(self, user, action):
        if action == DELETE and not self.user_may_delete(user):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        actions = self._allowed_actions(user, actions)
        return bool(actions) and super().user_has_any_permission_for_instance(user, actions, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        actions = self._allowed_actions(user, actions)
        if not actions:
            return self.model._default_manager.none()
        return super().instances_user_has_any_permission_for(user, actions)

    def collections_user_has_any_permission_for(self, user, actions):
        return super().collections_user_has_any_permission_for(user, self._allowed_actions(user, actions))

    def users_with_any_permission(self, actions):
        return self._users_allowed(actions, super().users_with_any_permission)

    def users_with_any_permission_for_instance(self, actions, instance):
        wagtail_answer = super().users_with_any_permission_for_instance
        return self._users_allowed(actions, lambda actions: wagtail_answer(actions, instance))

    def _users_allowed(self, actions, users_for):
        """Users Wagtail allows for the actions other than delete, plus those it allows to delete who
        also hold the delete permission."""
        others = set(actions) - {DELETE}
        condition = Q(pk__in=users_for(others).values("pk")) if others else Q(pk__in=[])
        if DELETE in actions:
            condition |= Q(pk__in=users_for([DELETE]).filter(self._delete_holders()).values("pk"))
        return get_user_model().objects.filter(condition)


def register_policies():
    """Install the policies for documents and images (called from ``ContentConfig.ready()``)."""
    register_permission_policy(
        get_document_model(),
        RoleCollectionPolicy(
            get_document_model_string(),
            auth_model="wagtaildocs.Document",
            owner_field_name="uploaded_by_user",
        ),
        exact_class=True,
    )
    register_permission_policy(
        get_image_model(),
        RoleCollectionPolicy(
            get_image_model_string(), auth_model="wagtailimages.Image", owner_field_name="uploaded_by_user"
        ),
        exact_class=True,
    )
