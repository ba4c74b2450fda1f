"""Python run in a process of its own, as another gunicorn worker, a script or a killed writer would."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

_DJANGO_SETUP = f"""\
import os, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "kb_site.settings.test"
import django
django.setup()
"""


def django_script(body):
    """``body`` (indented as it comes) run after Django is set up with the test settings."""
    return _DJANGO_SETUP + textwrap.dedent(body)


def run_script(script, *args, timeout=120):
    """Run ``script`` with ``args`` in a new Python process; its output is captured as text."""
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
