"""Production settings: refuse to start without a secret, pass `check --deploy` when configured."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_overrides):
    dropped = {"SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the last is set by browser tests
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"DJANGO_SETTINGS_MODULE": "kb_site.settings.production", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = run_manage("check", env_overrides={"CALLBOOK_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_a_proper_environment(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "SECRET_KEY": "x9!vQ2#pL7@mN4$kR8%tW1^zY6&bC3*dF5(gH0)jK-lM_nP+qS=uV",
            "ALLOWED_HOSTS": "kb.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://kb.example.com",
            "CALLBOOK_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_postgres_connections_are_kept_between_requests_and_checked(tmp_path):
    """On PostgreSQL (``DATABASE_URL``) a worker keeps its connection between requests and checks it
    before reusing it, as the several-servers deployment in the README needs."""
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default'];"
        " print(d['ENGINE'], d['HOST'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        env_overrides={
            "SECRET_KEY": "x9!vQ2#pL7@mN4$kR8%tW1^zY6&bC3*dF5(gH0)jK-lM_nP+qS=uV",
            "DATABASE_URL": "postgres://callbook@db.internal:5432/callbook",
            "CALLBOOK_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "django.db.backends.postgresql db.internal 600 True"
