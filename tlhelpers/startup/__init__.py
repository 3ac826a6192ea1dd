"""Layer 2, starting the course: the set-up cell of every notebook (``notebook``: one seed
call, the profile, versions, warnings), the repository the course is published in
(``repository``), and the launch links and Colab install cell made from it (``launch``,
also ``python -m tlhelpers launch``).

See docs/architecture.md for the layers.

>>> from tlhelpers.startup import launch
>>> launch.ROOT.joinpath('tlhelpers').is_dir()
True
"""
