"""The changes demo: 少货处理 published as a major change some demo agents still have to acknowledge."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from changes.models import ChangeNotice, NoticeRecipient
from changes.notices import pending_notices
from procedures.models import ProcedurePage
from training.models import ReadConfirmation


def test_demo_has_a_major_change_partly_acknowledged(demo, client):
    page = ProcedurePage.objects.get(slug="missing-item-flow")
    notice = ChangeNotice.objects.get(page_id=page.pk)
    assert notice.change_class == "major" and notice.previous_revision_id
    users = {u.username: u for u in get_user_model().objects.all()}
    asked = set(NoticeRecipient.objects.filter(notice=notice).values_list("user__username", flat=True))
    assert {"agent", "agent2"} <= asked
    assert ReadConfirmation.objects.filter(user=users["agent"], revision=notice.revision).exists()
    assert not pending_notices(users["agent"]).exists()
    assert pending_notices(users["agent2"]).filter(pk=notice.pk).exists()

    client.force_login(users["agent2"])
    response = client.get(page.url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("changes:notice", args=[notice.pk])
    )
    assert "<ins>（请客户拍照留证）</ins>" in client.get(response["Location"]).content.decode()
