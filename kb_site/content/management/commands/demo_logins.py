from django.core.management.base import BaseCommand

from kb_site.content.demo import DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo accounts (development only)."

    def handle(self, *args, **options):
        self.stdout.write("\nCallbook demo: http://127.0.0.1:8000/  (admin: /admin/)")
        self.stdout.write("Demo logins (development only):")
        for spec in DEMO_USERS:
            role = spec["role"] or "超级管理员"
            self.stdout.write(f"  {role:<6} {spec['username']:<11} / {spec['password']}")
        self.stdout.write("")
