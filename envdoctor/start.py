"""The `envdoctor` command's entry point: `--version` answers before click and the
commands load; everything else goes to cli.main."""
from __future__ import annotations

import sys

from envdoctor import __version__


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"envdoctor, version {__version__}\n")
        sys.exit(0)
    from envdoctor.cli import main as cli_main

    cli_main()
