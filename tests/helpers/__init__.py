"""Helpers shared by the tests, imported as ``from tests.helpers.api import Hall``.

Nothing here is collected as a test. ``python -m tests.helpers.worker`` (run from the repository
root) is the crash-test worker that ``tests/db/test_concurrency.py`` starts and kills.
"""
