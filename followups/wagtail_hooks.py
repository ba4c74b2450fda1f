"""What follow-ups add to the rest of the site, by registration only (each section below is one
concern: the queues' pages and panels, the admin and reports, the demo)."""

from wagtail import hooks  # noqa: F401
