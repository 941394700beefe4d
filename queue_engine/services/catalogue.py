"""The service catalogue (issue 20): each service's national code (实施编码) and department.

Like copying the province's list of matters onto the hall's signs: the whole list is checked
first, and only a list without a single bad line is copied, in one go; copying the same list
twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from queue_engine.adapters import integration_store as store
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.errors import InvalidInput, NotFound
from queue_engine.services.desk import Desk
from queue_engine.services.tickets import QueueEngine

MAX_ROWS = 5000
MAX_ERRORS = 20
# Column names of the provincial file (Chinese) and ours.
HEADERS = {
    "hall": "hall",
    "大厅": "hall",
    "service": "service",
    "事项": "service",
    "服务": "service",
    "catalogue_code": "catalogue_code",
    "实施编码": "catalogue_code",
    "department": "department",
    "实施部门": "department",
    "部门": "department",
}


class CatalogueRow(BaseModel):
    """One line of the catalogue file."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    hall: str | None = Field(default=None, max_length=16)
    service: str = Field(min_length=1, max_length=32)
    catalogue_code: str = Field(pattern=r"^[0-9A-Za-z]{8,64}$")
    department: str = Field(min_length=1, max_length=100)


def parse_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """The file's rows as dicts with our column names (``fmt``: ``csv`` or ``json``)."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidInput("the catalogue file is not JSON") from None
        if isinstance(data, dict):
            data = data.get("services")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InvalidInput('expected a JSON list of rows (or {"services": [...]})')
        rows = data
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        raise InvalidInput("the catalogue file is .csv or .json")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} rows in one catalogue file")
    return [{HEADERS.get(str(k).strip(), str(k)): v for k, v in r.items()} for r in rows]


class CatalogueDesk(Desk):
    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db = engine.db

    def of_hall(self, hall: str) -> dict[str, tuple[str | None, str | None]]:
        """Service code -> (实施编码, department) of ``hall``."""
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            return store.service_catalogue(uow.conn, hall_id)

    def import_text(self, text: str, fmt: str, hall: str | None = None) -> dict[str, Any]:
        """Check every row, then write them all in one audited transaction (or none)."""
        rows = parse_rows(text, fmt)
        if not rows:
            raise InvalidInput("the catalogue file has no rows")
        checked, errors = self._check(rows, hall)
        if errors:
            shown = "; ".join(errors[:MAX_ERRORS])
            more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
            raise InvalidInput(f"nothing imported: {shown}{more}", code="catalogue")
        changed = 0
        with self.unit() as uow:
            for code in sorted({h for h, _, _, _ in checked}):
                hall_id, _ = self.db.hall_config(uow.conn, code)
                current = store.service_catalogue(uow.conn, hall_id)
                for h, service, catalogue_code, department in checked:
                    if h != code or current.get(service) == (catalogue_code, department):
                        continue
                    store.set_service_catalogue(
                        uow.conn, hall_id, service, catalogue_code, department
                    )
                    changed += 1
            report = {"rows": len(checked), "changed": changed, "unchanged": len(checked) - changed}
            if changed:
                uow.record_audit(self.engine.clock.now(), {"catalogue": report})
                uow.commit()
        return report

    def _check(
        self, rows: list[dict[str, Any]], hall: str | None
    ) -> tuple[list[tuple[str, str, str, str]], list[str]]:
        errors: list[str] = []
        checked: list[tuple[str, str, str, str]] = []
        services: dict[str, set[str]] = {}
        seen: set[tuple[str, str]] = set()
        for number, raw in enumerate(rows, start=1):
            try:
                row = CatalogueRow.model_validate(raw)
            except ValidationError as exc:
                fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
                errors.append(f"row {number}: invalid {fields or 'row'}")
                continue
            code = (hall or row.hall or "").upper()
            if not code:
                errors.append(f"row {number}: no hall (a `hall` column or --hall)")
                continue
            if code not in services:
                try:
                    config = self.engine.config_for(code)
                except NotFound:
                    errors.append(f"row {number}: unknown hall {code}")
                    continue
                services[code] = {s.code for s in config.services}
            if row.service not in services[code]:
                errors.append(f"row {number}: hall {code} has no service {row.service}")
                continue
            if (code, row.service) in seen:
                errors.append(f"row {number}: service {row.service} appears twice")
                continue
            seen.add((code, row.service))
            checked.append((code, row.service, row.catalogue_code, row.department))
        return checked, errors
