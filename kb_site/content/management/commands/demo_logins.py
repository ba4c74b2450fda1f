from django.core.management.base import BaseCommand

from kb_site.content.demo import DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo accounts (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Where the demo is served")

    def handle(self, *args, **options):
        url = options["url"].rstrip("/") + "/"
        self.stdout.write(f"\nCallbook demo: {url}  (admin: {url}admin/)")
        self.stdout.write("Demo logins (development only):")
        for spec in DEMO_USERS:
            role = spec["role"] or "超级管理员"
            self.stdout.write(f"  {role:<6} {spec['username']:<11} / {spec['password']}")
        self.stdout.write("")
