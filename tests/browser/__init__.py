"""Pages and their JavaScript in Debian's chromium, against a real ``hall serve``."""
