"""The codemods: one module (or package, for a large one) per rule, named after it.

A rule imports only from :mod:`codemods.base`, :mod:`codemods.options`, :mod:`codemods.analysis`
and :mod:`codemods.speedups`; ``tests/test_layout.py`` enforces it.
"""
