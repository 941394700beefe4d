"""The test suite, laid out by kind: what a test needs decides where it lives.

- ``unit/``: pure domain rules and functions (no database, no app, no process; a frozen clock).
- ``service/``: services, analytics and the simulation in-process, on a database, without HTTP.
- ``db/``: tests whose point is the database (concurrency, SQLite and PostgreSQL alike, schema).
- ``web/``: the Flask app through its test clients (API, pages, Socket.IO, display routes, fuzz).
- ``browser/``: pages and their JavaScript in Debian's chromium, against ``hall serve``.
- ``cluster/``: real server processes (gunicorn, nginx, Redis, faults, two processes, the demo).

Shared fixtures live in ``tests/conftest.py``; helpers are the package ``tests.helpers``.
"""
