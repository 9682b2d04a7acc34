"""The `cocm` console script: the product's own commands and every Django management command."""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["serve"] and "--production" in sys.argv:
        # Production settings must be chosen before Django reads them.
        os.environ["COCM_MODE"] = "production"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocm.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
