"""factory_boy factories for the content models, shared by every test package."""

import factory
import wagtail_factories
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from kb_site.content import roles
from kb_site.content.models import ArticlePage, HomePage, Phrasing, SectionPage

PASSWORD = "pw-callbook-123"  # every UserFactory user's password


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


def make_user(role, username=None, **fields):
    username = (
        username
        or {
            roles.AGENT: "agent",
            roles.TRAINER: "trainer",
            roles.SUPERVISOR: "supervisor",
            roles.NEW_HIRE: "newhire",
        }[role]
    )
    return UserFactory(username=username, role=role, **fields)


class HomePageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = HomePage

    title = "Callbook 客服知识库"
    intro = "通话中先搜索，再按流程走。"


class SectionPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = SectionPage

    title = factory.Sequence(lambda n: f"业务栏目{n}")
    summary = "栏目简介"


class ArticlePageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = ArticlePage

    title = factory.Sequence(lambda n: f"规范文章{n}")
    summary = "文章摘要"
    body = factory.LazyFunction(lambda: [("heading", "处理步骤")])


class PhrasingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phrasing

    title = factory.Sequence(lambda n: f"话术{n}")
    scenario = "客户进线时"
    text = "您好{客户称呼}，我是{工号}号客服。"
    live = True


def phrasing_form(phrasing, **changes):
    """The snippet editor's POST data for ``phrasing``, with ``changes`` applied."""
    data = {
        "title": phrasing.title,
        "scenario": phrasing.scenario,
        "text": phrasing.text,
        "section": phrasing.section_id or "",
        "tags": "",
    }
    data.update(changes)
    return data


def publish(obj, user=None):
    """Publish the current state of a page or snippet as a new revision, as the editor would."""
    revision = obj.save_revision(user=user)
    revision.publish(user=user, skip_permission_checks=True)
    obj.refresh_from_db()
    return obj
