"""The tests of this package share one demo load: what one test writes is rolled back before the next
(conftest.py). These two run in file order, the second after the first, in the same process on the same
load (``make test``'s ``--dist loadscope`` keeps the package together; the second fails, rather than passes
without meaning, where they were split)."""

from feedback.models import Feedback
from search.models import SearchClick

deleted = []


def test_first_a_test_deletes_rows(demo):
    Feedback.objects.all().delete()
    SearchClick.objects.all().delete()
    assert not Feedback.objects.exists()
    deleted.append(True)


def test_then_the_next_finds_the_demo_as_loaded(demo):
    assert deleted, "the first test ran in another process"
    assert Feedback.objects.count() == 6 and SearchClick.objects.exists()
