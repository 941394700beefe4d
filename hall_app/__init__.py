"""The hall web app: API, live events and the pages of kiosks, clerks and supervisors."""
