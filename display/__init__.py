"""Hall display: the big board, window screens and voice announcements.

- ``routes``: the ``display`` blueprint (``/display/board/<hall>``, ``/display/window/<id>``,
  the window screen's JSON and the server's voice for calls);
- ``announce``: what a call says, on screen and aloud (pure);
- ``audio``: calls spoken offline by espeak-ng, cached per phrase in the instance folder;
- ``static/display``: the pages' scripts: the live connection (``live.js``), the texts and the
  announcement queue (``announce.js``), the loudspeaker (``speaker.js``), the board and the
  window screen.
"""
