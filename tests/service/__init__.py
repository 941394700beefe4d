"""Services, analytics and the simulation in-process: a database if needed, never HTTP."""
