"""The queue engine: a service hall's tickets, windows and rules.

Think of the paper roll at a bakery counter, made trustworthy: every number is handed out
once, every call goes to exactly one counter, and every change is written in a ledger.

The domain modules (``model``, ``policy``, ``estimate``, ``events``, ``hours``, ``errors``,
``clock``) are pure Python: no I/O, no globals, so the web app, the CLI, the tests and the
SimPy planning model all run the same rules. ``adapters`` is the only place that talks to a
database; ``services`` is the thin layer that loads, acts and commits.
"""
