"""The administration API (``/api/v1/admin``): halls, rules, services, windows, users, history.

Supervisors read, administrators write; an administrator bound to a hall administers only that
hall. Every change is audited with its before and after, bumps the hall's configuration
version (so every process rereads it) and refreshes the open kiosk and board pages.
"""

from __future__ import annotations

import json
from typing import Any

from apiflask import APIBlueprint
from flask import Response

from queue_engine.domain.access import Role

from ..auth import require_roles, signed_in_user
from ..http import staff_doc
from ..state import hall_services
from . import schemas as s

admin_api = APIBlueprint("admin_api", __name__, url_prefix="/api/v1/admin", tag="Administration")

READ = (Role.SUPERVISOR,)  # and admins (who always pass)
WRITE = (Role.ADMIN,)
ERRORS = {
    401: "no or invalid bearer token",
    403: "not an administrator (supervisors: read only), or another hall",
}


def doc(summary: str, **responses: str) -> Any:
    return staff_doc(admin_api, summary, responses, ERRORS)


# -- halls ---------------------------------------------------------------------------------


@admin_api.get("/halls")
@admin_api.output(s.HallsOut)
@require_roles(*READ)
@doc("The halls this account may administer or read")
def list_halls() -> dict[str, Any]:
    return {"halls": [s.hall_out(h) for h in hall_services().admin.halls(signed_in_user())]}


@admin_api.post("/halls")
@admin_api.input(s.HallCreateIn, arg_name="body")
@admin_api.output(s.HallOut, status_code=201)
@require_roles(*WRITE)
@doc("Create a hall (administrators of every hall only)", r422="invalid or duplicate code")
def create_hall(body: s.HallCreateIn) -> tuple[dict[str, Any], int]:
    data = body.model_dump(mode="json")
    data["hours"] = body.hours.to_mapping()
    return s.hall_out(hall_services().admin.create_hall(signed_in_user(), body.code, data)), 201


@admin_api.get("/halls/<string:hall>")
@admin_api.output(s.HallOut)
@require_roles(*READ)
@doc("A hall: names, time zone, opening hours, notice line", r404="no such hall")
def get_hall(hall: str) -> dict[str, Any]:
    return s.hall_out(hall_services().admin.hall(signed_in_user(), hall))


@admin_api.put("/halls/<string:hall>")
@admin_api.input(s.HallIn, arg_name="body")
@admin_api.output(s.HallOut)
@require_roles(*WRITE)
@doc("Change a hall's names, time zone, opening hours and notice line", r422="invalid")
def put_hall(hall: str, body: s.HallIn) -> dict[str, Any]:
    data = body.model_dump(mode="json")
    data["hours"] = body.hours.to_mapping()
    return s.hall_out(hall_services().admin.update_hall(signed_in_user(), hall, data))


@admin_api.get("/halls/<string:hall>/rules")
@admin_api.output(s.RulesIn)
@require_roles(*READ)
@doc("The no-show rule, the fairness guard and the appointment settings of a hall")
def get_rules(hall: str) -> dict[str, Any]:
    return hall_services().admin.rules(signed_in_user(), hall)


@admin_api.put("/halls/<string:hall>/rules")
@admin_api.input(s.RulesIn, arg_name="body")
@admin_api.output(s.RulesIn)
@require_roles(*WRITE)
@doc("Change the no-show rule, the fairness guard and the appointment settings", r422="invalid")
def put_rules(hall: str, body: s.RulesIn) -> dict[str, Any]:
    return hall_services().admin.update_rules(signed_in_user(), hall, body.model_dump(mode="json"))


@admin_api.get("/halls/<string:hall>/identity-rules")
@admin_api.output(s.IdentityRulesIn)
@require_roles(*READ)
@doc("身份核验与一人一号: identity off/optional/required (hall, services), N, M, elderly ages")
def get_identity_rules(hall: str) -> dict[str, Any]:
    identity: dict[str, Any] = hall_services().admin.rules(signed_in_user(), hall)["identity"]
    return identity


@admin_api.put("/halls/<string:hall>/identity-rules")
@admin_api.input(s.IdentityRulesIn, arg_name="body")
@admin_api.output(s.IdentityRulesIn)
@require_roles(*WRITE)
@doc(
    "Replace the identity rule (the rules' section ``identity``; audited as a rules change)",
    r422="invalid, bad_rules, unknown_service, unknown_zone",
)
def put_identity_rules(hall: str, body: s.IdentityRulesIn) -> dict[str, Any]:
    data = {"identity": body.model_dump(mode="json")}
    after = hall_services().admin.update_rules(signed_in_user(), hall, data)
    identity: dict[str, Any] = after["identity"]
    return identity


# -- services ------------------------------------------------------------------------------


@admin_api.get("/halls/<string:hall>/services")
@admin_api.output(s.ServicesOut)
@require_roles(*READ)
@doc("Every service of a hall, disabled ones included")
def list_services(hall: str) -> dict[str, Any]:
    return {"hall": hall, "services": hall_services().admin.services(signed_in_user(), hall)}


@admin_api.post("/halls/<string:hall>/services")
@admin_api.input(s.ServiceCreateIn, arg_name="body")
@admin_api.output(s.ServiceOut, status_code=201)
@require_roles(*WRITE)
@doc("Add a service", r422="invalid, or its code or prefix is taken")
def create_service(hall: str, body: s.ServiceCreateIn) -> tuple[dict[str, Any], int]:
    return hall_services().admin.create_service(
        signed_in_user(), hall, body.model_dump(mode="json")
    ), 201


@admin_api.put("/halls/<string:hall>/services/<string:code>")
@admin_api.input(s.ServiceIn, arg_name="body")
@admin_api.output(s.ServiceOut)
@require_roles(*WRITE)
@doc(
    "Change a service; `active: false` stops new tickets (waiting ones are still served)",
    r404="no such service",
    r422="invalid, or its prefix is taken",
)
def put_service(hall: str, code: str, body: s.ServiceIn) -> dict[str, Any]:
    return hall_services().admin.update_service(
        signed_in_user(), hall, code, body.model_dump(mode="json")
    )


# -- windows -------------------------------------------------------------------------------


@admin_api.get("/halls/<string:hall>/windows")
@admin_api.output(s.WindowsOut)
@require_roles(*READ)
@doc("Every window of a hall with its skills and evaluator device, disabled ones included")
def list_windows(hall: str) -> dict[str, Any]:
    return {"hall": hall, "windows": hall_services().admin.windows(signed_in_user(), hall)}


@admin_api.post("/halls/<string:hall>/windows")
@admin_api.input(s.WindowIn, arg_name="body")
@admin_api.output(s.WindowOut, status_code=201)
@require_roles(*WRITE)
@doc("Add a window", r422="invalid, number taken, or a skill names an unknown service")
def create_window(hall: str, body: s.WindowIn) -> tuple[dict[str, Any], int]:
    return hall_services().admin.create_window(
        signed_in_user(), hall, body.model_dump(mode="json")
    ), 201


@admin_api.put("/halls/<string:hall>/windows/<int:window_id>")
@admin_api.input(s.WindowIn, arg_name="body")
@admin_api.output(s.WindowOut)
@require_roles(*WRITE)
@doc(
    "Change a window; new skills change the very next call",
    r404="no such window",
    r409="renumbering or disabling a window that is open",
    r422="invalid, number taken, or a skill names an unknown service",
)
def put_window(hall: str, window_id: int, body: s.WindowIn) -> dict[str, Any]:
    return hall_services().admin.update_window(
        signed_in_user(), hall, window_id, body.model_dump(mode="json")
    )


# -- users ---------------------------------------------------------------------------------


@admin_api.get("/users")
@admin_api.output(s.UsersOut)
@require_roles(*READ)
@doc("Staff accounts (of the account's hall, for staff bound to one)")
def list_users() -> dict[str, Any]:
    return {"users": hall_services().admin.users(signed_in_user())}


@admin_api.post("/users")
@admin_api.input(s.UserCreateIn, arg_name="body")
@admin_api.output(s.UserOut, status_code=201)
@require_roles(*WRITE)
@doc("Add a staff account", r422="invalid, weak password, or the name is taken")
def create_user(body: s.UserCreateIn) -> tuple[dict[str, Any], int]:
    data = body.model_dump(exclude={"password"})
    return hall_services().admin.create_user(signed_in_user(), data, body.password), 201


@admin_api.patch("/users/<string:username>")
@admin_api.input(s.UserUpdateIn, arg_name="body")
@admin_api.output(s.UserOut)
@require_roles(*WRITE)
@doc("Change a staff account's role, hall, name, or disable it", r404="no such user")
def patch_user(username: str, body: s.UserUpdateIn) -> dict[str, Any]:
    return hall_services().admin.update_user(
        signed_in_user(), username, body.model_dump(exclude_unset=True)
    )


@admin_api.post("/users/<string:username>/password")
@admin_api.input(s.PasswordIn, arg_name="body")
@require_roles(*WRITE)
@doc("Set a new password for a staff account", r204="done", r404="no such user")
def reset_password(username: str, body: s.PasswordIn) -> Response:
    hall_services().admin.reset_password(signed_in_user(), username, body.password)
    return Response(status=204)


@admin_api.get("/users/<string:username>/contact")
@admin_api.output(s.StaffContactOut)
@require_roles(*READ)
@doc("Whether a staff account has a phone / WeChat for escalation cards, and its department")
def get_staff_contact(username: str) -> dict[str, Any]:
    return hall_services().staff_contacts.view(signed_in_user(), username)


@admin_api.put("/users/<string:username>/contact")
@admin_api.input(s.StaffContactIn, arg_name="body")
@admin_api.output(s.StaffContactOut)
@require_roles(*WRITE)
@doc(
    "Set where a staff account hears of escalation cards (kept encrypted) and the department "
    "it heads (its yellow cards)",
    r404="no such user",
    r422="not a mainland mobile number, not an openid",
)
def put_staff_contact(username: str, body: s.StaffContactIn) -> dict[str, Any]:
    return hall_services().staff_contacts.update(
        signed_in_user(), username, body.model_dump(exclude_unset=True)
    )


# -- history and the whole configuration ---------------------------------------------------


@admin_api.get("/halls/<string:hall>/history")
@admin_api.output(s.HistoryOut)
@require_roles(*READ)
@doc("The latest configuration changes of a hall: who, when, before and after")
def history(hall: str) -> dict[str, Any]:
    return {
        "hall": hall,
        "changes": [_change(c) for c in hall_services().admin.history(signed_in_user(), hall)],
    }


def _change(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "ts": row["ts"].isoformat(), "detail": json.loads(row["detail"] or "{}")}


@admin_api.get("/halls/<string:hall>/config")
@admin_api.output(s.HallConfigFile)
@require_roles(*READ)
@doc("The whole configuration of a hall (the document of `hall config export`)")
def export_config(hall: str) -> dict[str, Any]:
    return s.HallConfigFile.from_stored(
        hall_services().admin.export_hall(signed_in_user(), hall)
    ).model_dump(mode="json")


# -- notices and the outbox (issue 17) -------------------------------------------------------


def _delivery_out(row: Any) -> dict[str, Any]:
    """A delivery as admins see it: never its address (a phone, an openid)."""
    return {
        "id": row.id,
        "hall": row.hall,
        "channel": row.channel,
        "kind": row.kind,
        "key": row.key,
        "status": row.status,
        "attempts": row.attempts,
        "urgent": row.urgent,
        "text": row.text if row.channel != "webhook" else "",
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "due_at": row.due_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


@admin_api.get("/notices/templates")
@require_roles(*READ)
@doc("Every notice template in zh-CN and English, rendered with sample values")
def notice_templates() -> dict[str, Any]:
    from queue_engine.domain.notice_templates import TEMPLATES, previews

    return {
        "templates": [
            {
                "kind": p.kind,
                "lang": p.lang,
                "template": TEMPLATES[p.kind][0 if p.lang == "zh" else 1],
                "sample": p.text,
                "chars": len(p.text),
                "sms_segments": p.segments,
            }
            for p in previews()
        ]
    }


@admin_api.get("/halls/<string:hall>/deliveries")
@require_roles(*READ)
@doc("The delivery log: ?status=dead|failed|pending|sending|sent&channel=sms&limit=100")
def deliveries(hall: str) -> dict[str, Any]:
    from flask import request

    services = hall_services()
    code = services.admin.hall(signed_in_user(), hall)["code"]
    try:
        limit = int(request.args.get("limit") or 100)
    except ValueError:
        limit = 100
    rows = services.deliveries.rows(
        code,
        channel=request.args.get("channel") or None,
        status=request.args.get("status") or None,
        limit=limit,
    )
    return {"deliveries": [_delivery_out(r) for r in rows]}


@admin_api.post("/halls/<string:hall>/deliveries/<int:delivery_id>/retry")
@require_roles(*WRITE)
@doc("Queue a delivery again (a dead letter's retry), audited", r404="no such delivery")
def retry_delivery(hall: str, delivery_id: int) -> dict[str, Any]:
    services = hall_services()
    code = services.admin.hall(signed_in_user(), hall)["code"]
    return _delivery_out(services.deliveries.replay(code, delivery_id))


@admin_api.post("/halls/<string:hall>/close-day")
@require_roles(*WRITE)
@doc(
    'Close the hall on a date: cancel its bookings and tell each holder ({"date": "YYYY-MM-DD"})',
    r422="no or invalid date",
)
def close_day(hall: str) -> dict[str, Any]:
    from datetime import date

    from flask import request

    from queue_engine.domain.errors import InvalidInput

    body = request.get_json(silent=True) or {}
    try:
        day = date.fromisoformat(str(body.get("date") or ""))
    except ValueError:
        raise InvalidInput("date must be YYYY-MM-DD") from None
    services = hall_services()
    code = services.admin.hall(signed_in_user(), hall)["code"]
    reason = str(body.get("reason") or "")
    return {
        "date": day.isoformat(),
        "cancelled": services.appointments.close_day(code, day, reason),
    }
