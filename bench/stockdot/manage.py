"""``manage.py`` of the stock DOT project (bench/run migrates it with ``bench/`` on PYTHONPATH)."""

import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockdot.settings")
    execute_from_command_line(sys.argv)
