"""Tests whose point is the database: concurrency, SQLite and PostgreSQL alike, schema."""
