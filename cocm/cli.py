"""The `cocm` console script: the product's own commands and every Django management command."""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["serve"] and "--production" in sys.argv:
        # Production settings must be chosen before Django reads them.
        os.environ["COCM_MODE"] = "production"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocm.settings")
    from django.core.management import execute_from_command_line
    from environs import EnvError

    try:
        execute_from_command_line(sys.argv)
    except EnvError as error:  # a bad environment value: say which, without a traceback
        sys.exit(f"cocm: configuration error: {error}")


if __name__ == "__main__":
    main()
