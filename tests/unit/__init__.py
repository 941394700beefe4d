"""Pure domain rules and functions: no database, no Flask app, no process, a frozen clock."""
