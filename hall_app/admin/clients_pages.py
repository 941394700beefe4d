"""The admin page of API clients and their webhooks (issue 20): ``/admin/<hall>/clients``.

The same desks as the administration API. A new or rotated secret is shown in the answer to
the form's post only (never put in the session cookie, never shown again); the page is not
cached.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from queue_engine.domain.access import Role
from queue_engine.domain.errors import Conflict, InvalidInput
from queue_engine.domain.integrations import SCOPES

from ..auth import require_roles, signed_in_user
from ..http import no_store
from ..pages.i18n import N_
from ..state import hall_services
from .clients_api import client_out
from .pages import _page, admin_pages

SCOPE_LABELS = {
    "book": N_("代为预约"),
    "tickets:remote": N_("远程取号"),
    "queues:read": N_("查询排队"),
    "events:subscribe": N_("订阅事件推送"),
    "cases:link": N_("关联办件编号"),
}


def _may_change(hall: str, client_halls: tuple[str, ...]) -> bool:
    me = signed_in_user()
    if me.role is not Role.ADMIN:
        return False
    return me.hall is None or tuple(client_halls) == (hall,) == (me.hall,)


def _render(hall: str, shown_secret: dict[str, str] | None = None, error: str = "") -> Any:
    services = hall_services()
    clients = [c for c in services.clients.clients() if not c.halls or hall in c.halls]
    ids = {c.client_id for c in clients}
    names = {c.client_id: c.name for c in clients}
    webhooks = [w for w in services.webhooks.subscriptions() if w.client_id in ids]
    page = _page(
        "admin/clients.html",
        hall,
        "clients",
        clients=[{**client_out(c), "may_change": _may_change(hall, c.halls)} for c in clients],
        webhooks=[{**w.to_json(), "client_name": names.get(w.client_id, "")} for w in webhooks],
        scopes=list(SCOPES),
        scope_labels={k: gettext(v) for k, v in SCOPE_LABELS.items()},
        shown_secret=shown_secret,
        error=error,
        may_add=signed_in_user().role is Role.ADMIN,
    )
    return no_store(page)


@admin_pages.get("/<hall>/clients")
@require_roles(Role.SUPERVISOR)
def clients(hall: str) -> ResponseReturnValue:
    return _render(hall)  # type: ignore[no-any-return]


@admin_pages.post("/<hall>/clients")
@require_roles(Role.ADMIN)
def add_client_page(hall: str) -> ResponseReturnValue:
    me = signed_in_user()
    halls = [] if me.hall is None and request.form.get("all_halls") else [hall]
    quotas = {}
    book_quota = request.form.get("book_quota", "").strip()
    if book_quota:
        quotas["book"] = book_quota
    try:
        client, secret = hall_services().clients.add(
            request.form.get("name", ""), request.form.getlist("scopes"), halls, quotas
        )
    except (InvalidInput, Conflict) as exc:
        return _render(hall, error=str(exc))  # type: ignore[no-any-return]
    shown = {"client_id": client.client_id, "client_secret": secret, "name": client.name}
    return _render(hall, shown_secret=shown)  # type: ignore[no-any-return]


def _changeable(hall: str, client_id: str) -> None:
    client = hall_services().clients.client(client_id)
    if not _may_change(hall, client.halls):
        abort(403)


@admin_pages.post("/<hall>/clients/<client_id>/rotate")
@require_roles(Role.ADMIN)
def rotate_client_page(hall: str, client_id: str) -> ResponseReturnValue:
    _changeable(hall, client_id)
    client, secret = hall_services().clients.rotate(client_id)
    shown = {"client_id": client.client_id, "client_secret": secret, "name": client.name}
    return _render(hall, shown_secret=shown)  # type: ignore[no-any-return]


@admin_pages.post("/<hall>/clients/<client_id>/revoke")
@require_roles(Role.ADMIN)
def revoke_client_page(hall: str, client_id: str) -> ResponseReturnValue:
    _changeable(hall, client_id)
    hall_services().clients.revoke(client_id)
    flash(gettext("已吊销"), "info")
    return redirect(url_for("admin_pages.clients", hall=hall))


@admin_pages.post("/<hall>/webhooks/<int:subscription_id>/enable")
@require_roles(Role.ADMIN)
def enable_webhook_page(hall: str, subscription_id: int) -> ResponseReturnValue:
    _changeable(hall, hall_services().webhooks.subscription(subscription_id).client_id)
    hall_services().webhooks.enable(subscription_id)
    flash(gettext("已重新启用"), "info")
    return redirect(url_for("admin_pages.clients", hall=hall))
