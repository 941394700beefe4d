"""Adapters: the only place that imports SQLAlchemy and talks to a database."""
