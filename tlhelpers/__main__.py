"""``python -m tlhelpers fetch ...``: see :mod:`tlhelpers.fetch`."""

import sys


def main(argv: list[str]) -> int:
    """Run ``python -m tlhelpers fetch ...``; returns the exit status."""
    if not argv or argv[0] != "fetch":
        print("usage: python -m tlhelpers fetch [--profile ci|cpu|full] [--backbone NAME] "
              "[--to DIR | --from DIR] [--no-data]")
        return 2
    from tlhelpers.fetch import main as fetch_main

    return fetch_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
