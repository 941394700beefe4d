"""The yardstick for bench/http.py: the smallest Flask + SQLAlchemy endpoint that commits a row.

Served by the same server as ``hall serve`` (Werkzeug, threaded) on the same kind of database.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the standard library's ``http`` package that Werkzeug imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from queue_engine.adapters.database import make_engine

ROWS = Table(
    "minimal_rows",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("payload", String(64)),
)


def create_minimal_app(url: str) -> Flask:
    engine = make_engine(url)
    ROWS.create(engine, checkfirst=True)
    app = Flask(__name__)

    @app.post("/insert")
    def insert_row() -> tuple[object, int]:
        with engine.begin() as conn:
            row_id = conn.execute(insert(ROWS).values(payload="x")).inserted_primary_key
        return jsonify({"id": row_id[0] if row_id else None}), 201

    return app


if __name__ == "__main__":
    create_minimal_app(sys.argv[1]).run(host="127.0.0.1", port=int(sys.argv[2]), threaded=True)
