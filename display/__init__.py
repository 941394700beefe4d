"""Hall display: the big board, window screens and voice announcements."""
