"""Jinja2 templates auditfix renders: generated service code, commit messages, PR bodies, reports.

This is a package only so that the templates ship inside the wheel and are found by
``jinja2.PackageLoader("templates")``.
"""
