from contextlib import ExitStack

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from wagtail import hooks

from kb_site.demo import LOADER_HOOK, WRAPPER_HOOK, DemoReport


class Command(BaseCommand):
    help = "Build the demo knowledge base: every app's registered demo loader, in order. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true", help="Republish content that already exists")
        parser.add_argument("--no-users", action="store_true", help="Do not create the demo accounts")
        parser.add_argument(
            "--demo-users",
            action="store_true",
            help="Create the demo accounts even with DEBUG off (they have published passwords)",
        )

    def handle(self, *args, **options):
        with_users = not options["no_users"]
        if with_users and not settings.DEBUG and not options["demo_users"]:
            raise CommandError(
                "Demo accounts have published passwords: refusing with DEBUG off. "
                "Use --no-users, or --demo-users if you really mean it."
            )
        report = DemoReport()
        with ExitStack() as stack:
            stack.enter_context(tasks_run_in_process())
            for wrapper in hooks.get_hooks(WRAPPER_HOOK):
                stack.enter_context(wrapper())
            for loader in hooks.get_hooks(LOADER_HOOK):
                loader(update=options["update"], report=report, with_users=with_users)
        created = ", ".join(f"{k} {v}" for k, v in sorted(report.created.items())) or "nothing"
        kept = ", ".join(f"{k} {v}" for k, v in sorted(report.updated.items())) or "nothing"
        self.stdout.write(
            self.style.SUCCESS(f"Demo content loaded. Created: {created}. Already there: {kept}.")
        )


def tasks_run_in_process():
    """The demo saves hundreds of objects, and each save queues Wagtail's index and reference updates.
    Run them here, as they happen (search's ``wrap_demo_load`` still batches the index writes), rather
    than leaving a thousand tasks for the worker: the load finishes with its index and references
    current and the queue empty."""
    return override_settings(
        TASKS={DEFAULT_TASK_BACKEND_ALIAS: {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    )
