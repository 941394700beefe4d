"""The upstream export: a hall's ratings and case results as the provincial 好差评 platform
takes them.

Like a branch sending its daily sales sheet to head office: one record per rating, in one
documented mapping (``docs/evaluations.md``, validated against
``docs/evaluations-export.schema.json``): 评价编号, 事项编码, 渠道, 评价等级, 指标, 评价时间,
差评原因, 追评, 回访情况, 整改情况. No names, phones or ID numbers leave: a comment's digits are
masked as on every other outside screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from queue_engine.domain.evaluations import SCORE_LABELS
from queue_engine.domain.redaction import mask_personal_data

SCHEMA_VERSION = "1.0"

# Our channel codes → the platform's channel kind (渠道).
CHANNEL_KINDS: Mapping[str, str] = {
    "evaluator": "window_device",  # 窗口评价器
    "evaluator_clerk": "window_device",
    "rate_later": "sms",  # the clerk's "rate later": the citizen's SMS link
    "invitation": "sms",  # the SMS/push invitation link
    "slip_qr": "qr_code",  # 二维码 on the ticket slip
    "ticket_page": "mobile",  # the phone's ticket page
    "app": "mobile",
    "ticket": "other",  # ratings of old
    "api": "other",
}


@dataclass(frozen=True)
class CaseRecord:
    status: str
    callback_deadline: date | None
    called_back_at: datetime | None
    callback_on_time: bool | None
    rectify_deadline: date
    resolution: str | None  # rectified / explained
    resolved_at: datetime | None
    resolved_on_time: bool | None
    citizen_rating: str | None


@dataclass(frozen=True)
class ExportRecord:
    evaluation_id: int
    hall: str
    ticket_id: str
    segment: int
    service: str
    department: str
    window: str | None
    channel: str
    score: int
    indicators: Mapping[str, int]
    rated_at: datetime
    comment: str
    reasons: Sequence[str]
    follow_up_comment: str | None
    follow_up_at: datetime | None
    excluded: bool
    case: CaseRecord | None
    case_number: str | None = None  # 办件编号 of the matter, when attached (issue 20)
    catalogue_code: str | None = None  # 实施编码 of the service, when imported (issue 20)


def evaluation_number(hall: str, evaluation_id: int) -> str:
    """评价编号: unique per deployment and stable across exports."""
    return f"{hall}-PJ{evaluation_id:010d}"


def _iso(moment: datetime | None, zone: Any) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


def export_record(record: ExportRecord, zone: Any) -> dict[str, Any]:
    """One rating in the export mapping (``zone``: the hall's time zone for the times)."""
    out: dict[str, Any] = {
        "evaluation_number": evaluation_number(record.hall, record.evaluation_id),
        "hall": record.hall,
        "matter_code": record.service,
        "service_segment": record.segment,
        "department": record.department,
        "window": record.window,
        "channel": record.channel,
        "channel_kind": CHANNEL_KINDS.get(record.channel, "other"),
        "level": record.score,
        "level_label": SCORE_LABELS[record.score],
        "indicators": dict(record.indicators),
        "evaluated_at": _iso(record.rated_at, zone),
        "comment": mask_personal_data(record.comment),
        "bad_reasons": list(record.reasons),
        "follow_up": None,
        "appeal_upheld": record.excluded,
        "callback": None,
        "rectification": None,
    }
    if record.case_number:
        out["case_number"] = record.case_number
    if record.catalogue_code:
        out["catalogue_code"] = record.catalogue_code
    if record.follow_up_at is not None:
        out["follow_up"] = {
            "comment": mask_personal_data(record.follow_up_comment or ""),
            "at": _iso(record.follow_up_at, zone),
        }
    case = record.case
    if case is not None:
        out["callback"] = {
            "deadline": None
            if case.callback_deadline is None
            else case.callback_deadline.isoformat(),
            "done_at": _iso(case.called_back_at, zone),
            "on_time": case.callback_on_time,
        }
        out["rectification"] = {
            "status": case.status,
            "resolution": case.resolution,
            "deadline": case.rectify_deadline.isoformat(),
            "done_at": _iso(case.resolved_at, zone),
            "on_time": case.resolved_on_time,
            "citizen_rating": case.citizen_rating,
        }
    return out


def export_document(
    hall: str, day: date, generated_at: datetime, records: Sequence[Mapping[str, Any]], zone: Any
) -> dict[str, Any]:
    """The daily file: the ratings made or whose case moved on that business day."""
    return {
        "schema_version": SCHEMA_VERSION,
        "hall": hall,
        "date": day.isoformat(),
        "generated_at": _iso(generated_at, zone),
        "records": list(records),
    }
