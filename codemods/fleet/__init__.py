"""Fleet mode: one campaign over many repositories, each one a task on a Dask cluster.

- ``repos``: the repository list (``REPOS``): one URL or local path per line, optionally a branch.
- ``task``: what a worker does with one repository: clone or fetch it, then what
  ``auditfix run <clone>`` does (git mode, or the engine alone with ``--dry-run``).
- ``state``: the SQLite record in the work folder that makes a re-run skip finished work and
  a killed run resumable.
- ``cluster``: the client side: a Dask cluster (local or existing), tasks submitted, results
  recorded as they complete.
- ``report``: ``fleet-report.json``, ``.md`` and ``.html``.

Only ``cluster`` imports Dask (``pip install "auditfix[fleet]"``); the workers run ``task``.
"""
