"""Layer 6, evaluation and results: statistics (standard errors, McNemar, Student's t),
evaluation of models, the results store shared by the notebooks, what the benchmarks
measured, the backbone zoo and decision guide, and the probes of notebook 02.

See docs/architecture.md for the layers.

>>> from tlhelpers.analysis.stats import standard_error
>>> round(standard_error(0.5, 100), 3)
0.05
"""
