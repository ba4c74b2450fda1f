from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kb_site.content import demo
from search.backend import batched_index_writes


class Command(BaseCommand):
    help = (
        "Build the demo knowledge base (sections, articles, phrasings, procedures, demo users). Idempotent."
    )

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
        with batched_index_writes():
            report = demo.load(update=options["update"], with_users=with_users)
            for loader in demo.extra_loaders():
                loader(update=options["update"], report=report)
        created = ", ".join(f"{k} {v}" for k, v in sorted(report.created.items())) or "nothing"
        kept = ", ".join(f"{k} {v}" for k, v in sorted(report.updated.items())) or "nothing"
        self.stdout.write(
            self.style.SUCCESS(f"Demo content loaded. Created: {created}. Already there: {kept}.")
        )
