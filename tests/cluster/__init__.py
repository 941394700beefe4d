"""Real server processes: gunicorn behind nginx, Redis, faults, two processes, the demo."""
