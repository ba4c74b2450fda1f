"""The tests of this package share one demo load: what one test writes is rolled back before the next
(conftest.py). These two run in file order, the second after the first, on the same load."""

from feedback.models import Feedback
from search.models import SearchClick


def test_first_a_test_deletes_rows(demo):
    Feedback.objects.all().delete()
    SearchClick.objects.all().delete()
    assert not Feedback.objects.exists()


def test_then_the_next_finds_the_demo_as_loaded(demo):
    assert Feedback.objects.count() == 6 and SearchClick.objects.exists()
