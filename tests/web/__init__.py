"""The Flask app through its test clients: API, pages, Socket.IO, display routes, fuzz."""
