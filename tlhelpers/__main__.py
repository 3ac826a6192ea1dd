"""The course's two maintenance commands:

- ``python -m tlhelpers fetch ...``: prefetch a profile's files, or make and use an offline
  bundle (:mod:`tlhelpers.datasets.fetch`; starts no TensorFlow);
- ``python -m tlhelpers launch --update | --check ...``: the launch badges and Colab install
  cells of README.md and the notebooks (:mod:`tlhelpers.startup.launch`).
"""

import sys

USAGE = ("usage: python -m tlhelpers fetch [--profile ci|cpu|full] [--backbone NAME] "
         "[--to DIR | --from DIR] [--no-data]\n"
         "       python -m tlhelpers launch (--update | --check) [OWNER/NAME]")


def main(argv: list[str]) -> int:
    """Run ``python -m tlhelpers fetch|launch ...``; returns the exit status.

    >>> main(["unpack"])
    usage: python -m tlhelpers fetch [--profile ci|cpu|full] [--backbone NAME] [--to DIR | --from DIR] [--no-data]
           python -m tlhelpers launch (--update | --check) [OWNER/NAME]
    2
    """
    if argv and argv[0] == "fetch":
        from tlhelpers.datasets.fetch import main as fetch_main

        return fetch_main(argv[1:])
    if argv and argv[0] == "launch":
        from tlhelpers.startup.launch import main as launch_main

        return launch_main(argv[1:])
    print(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
