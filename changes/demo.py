"""The changes demo: filled in below."""


def load(update=False, report=None, **options):
    return None
