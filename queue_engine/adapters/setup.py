"""Creating halls and staff accounts (used by ``hall init`` and by tests)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.adapters.orm import HallRow, ServiceRow, UserRow, WindowRow, WindowSkillRow
from queue_engine.domain.access import Role
from queue_engine.domain.accounts import check_password, check_username, hash_password
from queue_engine.domain.errors import Conflict, NotFound
from queue_engine.seed import HallSpec


def create_hall(session: Session, spec: HallSpec) -> int:
    """Insert a hall with its services, windows and skills; returns the hall id."""
    if session.scalar(select(HallRow.id).where(HallRow.code == spec.code)) is not None:
        raise Conflict(f"hall {spec.code} already exists")
    hall = HallRow(
        code=spec.code,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        timezone=spec.timezone,
        hours=spec.hours.to_mapping(),
        dispatch=spec.dispatch.to_mapping(),
        no_show=spec.no_show.to_mapping(),
        notice=spec.notice,
        config_version=1,
    )
    session.add(hall)
    session.flush()
    service_ids: dict[str, int] = {}
    for order, s in enumerate(spec.services):
        row = ServiceRow(
            hall_id=hall.id,
            code=s.code,
            prefix=s.prefix,
            name_zh=s.name_zh,
            name_en=s.name_en,
            zone=s.zone,
            standard_minutes=s.standard_minutes,
            active=s.active,
            sort_order=order,
        )
        session.add(row)
        session.flush()
        service_ids[s.code] = row.id
    for w in spec.windows:
        window = WindowRow(
            hall_id=hall.id,
            number=w.number,
            name=w.name,
            zone=w.zone,
            state="closed",
            cycle_position=0,
            active=True,
        )
        session.add(window)
        session.flush()
        for code, primary in w.skills.items():
            if code not in service_ids:
                raise NotFound(f"window {w.number} names unknown service {code}")
            session.add(
                WindowSkillRow(
                    window_id=window.id, service_id=service_ids[code], is_primary=primary
                )
            )
    session.flush()
    return hall.id


def add_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    hall_code: str | None = None,
    display_name: str = "",
) -> int:
    username = check_username(username)
    check_password(password)
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise Conflict(f"user {username} already exists")
    hall_id = None
    if hall_code is not None:
        hall_id = session.scalar(select(HallRow.id).where(HallRow.code == hall_code))
        if hall_id is None:
            raise NotFound(f"no hall {hall_code!r}")
    user = UserRow(
        username=username,
        password_hash=hash_password(password),
        role=str(role),
        hall_id=hall_id,
        display_name=display_name or username,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user.id
