"""The display blueprint: the hall board, window screens, and the server's voice for calls.

Pages are thin: each renders a frame with what it needs before its first live snapshot (the
hall's name, time zone and notice, or the window's number), and its script takes over from the
Socket.IO rooms of ``hall_app.live``. Everything here is public, so nothing names a citizen,
and a window screen gets its clerk's display name, never the username.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState

from hall_app.errors import error_response
from hall_app.extensions import limiter
from hall_app.serialize import pause_label
from hall_app.state import hall_services
from queue_engine.domain.errors import NotFound
from queue_engine.domain.model import HallConfig

from .announce import Announcement, AnnouncementError, announcement
from .audio import SpeechUnavailable, Synthesizer

display = Blueprint(
    "display",
    __name__,
    url_prefix="/display",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

SPEECH = "display_speech"
REPEAT_DEFAULT, REPEAT_MAX = 2, 5


def register(app: Flask) -> None:
    """The ``hall.screens`` entry point: the hall app plugs the screens in with this."""
    app.register_blueprint(display)


@display.record_once
def _set_up_speech(state: BlueprintSetupState) -> None:
    app = state.app
    executable = app.config.get("DISPLAY_ESPEAK_NG", shutil.which("espeak-ng"))
    cache = Path(app.instance_path) / "announcements"
    app.extensions[SPEECH] = Synthesizer(cache, executable=executable)


def synthesizer() -> Synthesizer:
    speech: Synthesizer = current_app.extensions[SPEECH]
    return speech


def _engine() -> Any:
    return hall_services().engine


def _hall(code: str) -> HallConfig:
    try:
        config: HallConfig = _engine().hall_config(code)
    except NotFound:
        abort(404, f"no hall {code}")
    return config


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        return default


def _flag(name: str) -> bool:
    return request.args.get(name, "") in ("1", "true", "yes")


# -- pages ---------------------------------------------------------------------------------


@display.get("/halls/<hall>")
def directory(hall: str) -> str:
    """Links to every screen of a hall, for whoever sets up the displays."""
    config = _hall(hall)
    zones = list(
        dict.fromkeys([s.zone for s in config.services] + [w.zone for w in config.windows])
    )
    windows = sorted(config.windows, key=lambda w: w.number)
    return render_template("display/directory.html", hall=config, zones=zones, windows=windows)


@display.get("/board/<hall>")
def board(hall: str) -> str:
    """The hall board (1920×1080); ``?zone=`` shows one zone's services and windows only.

    ``?repeat=N`` says each call N times (default 2), ``?silent=1`` runs the announcement queue
    without sound (tests, a second board beside a speaking one), ``?voice=server`` always uses
    the server's recordings, ``?voice=NAME`` prefers a browser voice whose name contains NAME.
    """
    config = _hall(hall)
    zone = request.args.get("zone") or None
    zones = {s.zone for s in config.services} | {w.zone for w in config.windows}
    if zone is not None and zone not in zones:
        abort(404, f"hall {config.code} has no zone {zone}")
    data = {
        "hall": _hall_json(config),
        "zone": zone,
        "repeat": _int_arg("repeat", REPEAT_DEFAULT, 1, REPEAT_MAX),
        "backlog": _int_arg("backlog", 4, 0, 100),
        "silent": _flag("silent"),
        "voice": request.args.get("voice", "")[:40],
        "audio_url": url_for("display.announcement_audio"),
        "server_time": time.time() * 1000,
    }
    return render_template("display/board.html", hall=config, zone=zone, data=data)


@display.get("/window/<int:window_id>")
def window_screen(window_id: int) -> str:
    """A window's own small screen (640×160, scales to whatever screen it is on)."""
    try:
        screen = _window_screen_json(window_id)
    except NotFound:
        abort(404, f"no window {window_id}")
    data = {
        "window_id": window_id,
        "screen": screen,
        "screen_url": url_for("display.window_screen_data", window_id=window_id),
        "server_time": time.time() * 1000,
    }
    return render_template("display/window.html", screen=screen, data=data)


# -- JSON ----------------------------------------------------------------------------------


@display.get("/api/windows/<int:window_id>")
def window_screen_data(window_id: int) -> dict[str, Any]:
    """What a window screen shows: state, pause category, current number, clerk's name."""
    return _window_screen_json(window_id)


@display.get("/api/announcement")
def announcement_text() -> Response | dict[str, Any]:
    """The texts of a call (``?number=A023&window=5``): shown and spoken."""
    try:
        item = announcement(request.args.get("number"), request.args.get("window"))
    except AnnouncementError as exc:
        return error_response(422, "invalid", str(exc))
    return {"number": item.number, "window": item.window, "text": item.text, "speech": item.speech}


@display.get("/api/announcement/audio")
@limiter.limit("120 per minute")
def announcement_audio() -> Response | dict[str, Any]:
    """A call spoken by the server (``?hall=ZMD&number=A023&window=5``): the URL of its WAV.

    Only calls that hall could make are spoken: the phrase is built here from a checked ticket
    number (a prefix of one of the hall's services) and one of its window numbers, never taken
    from the request. 503 when this server has no speech engine: boards then stay text-only.
    """
    try:
        config: HallConfig = _engine().hall_config(request.args.get("hall", ""))
        item = announcement(request.args.get("number"), request.args.get("window"))
    except NotFound as exc:
        return error_response(404, "not_found", exc.message)
    except AnnouncementError as exc:
        return error_response(422, "invalid", str(exc))
    if item.number[0] not in {s.prefix for s in config.services}:
        return error_response(422, "invalid", f"hall {config.code} has no prefix {item.number[0]}")
    if item.window not in {w.number for w in config.windows}:
        return error_response(404, "not_found", f"hall {config.code} has no window {item.window}")
    if config.silent_window(item.window):  # 无声叫号: the citizen is told by their phone
        return error_response(409, "silent_zone", f"window {item.window} calls silently")
    speech = synthesizer()
    try:
        name = speech.synthesize(item)
    except SpeechUnavailable as exc:
        current_app.logger.warning("announcement audio unavailable: %s", exc)
        return error_response(503, "speech_unavailable", str(exc), text=item.text)
    return {
        "number": item.number,
        "window": item.window,
        "text": item.text,
        "speech": item.speech,
        "audio": url_for("display.audio_file", name=name),
    }


# What the kiosk's 长辈版 may have the server say besides a service's name (issue 18).
KIOSK_PHRASES = {
    "choose": "请选择办理事项",
    "elder": "已切换到长辈版",
    "identity": "请将身份证放在读卡区",
    "read": "已读取身份证",
    "take": "确认取号",
    "slip": "取号成功,请取走凭条",
    "back": "返回",
}


@display.get("/api/speech")
@limiter.limit("120 per minute")
def service_speech() -> Response | dict[str, Any]:
    """A kiosk choice spoken by the server (``?hall=ZMD&service=SOCIAL`` or ``&phrase=take``).

    For kiosks whose browser has no Mandarin voice: the phrase is one of the hall's service
    names or a fixed kiosk phrase (``KIOSK_PHRASES``), never text from the request.
    """
    try:
        config: HallConfig = _engine().hall_config(request.args.get("hall", ""))
    except NotFound as exc:
        return error_response(404, "not_found", exc.message)
    code, phrase = request.args.get("service"), request.args.get("phrase")
    names = {s.code: s.name_zh for s in config.services}
    text = names.get(code or "") if code else KIOSK_PHRASES.get(phrase or "")
    if not text:
        return error_response(404, "not_found", "no such service or phrase")
    item = Announcement(number="", window=0, text=text, speech=text)
    try:
        name = synthesizer().synthesize(item)
    except SpeechUnavailable as exc:
        current_app.logger.warning("kiosk speech unavailable: %s", exc)
        return error_response(503, "speech_unavailable", str(exc), text=text)
    return {"text": text, "audio": url_for("display.audio_file", name=name)}


@display.get("/audio/<name>.wav")
def audio_file(name: str) -> Response:
    """A recording made by ``announcement_audio`` (named by hash; unchanging, so cacheable)."""
    path = synthesizer().path(name)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", max_age=86400, conditional=True)


def _hall_json(config: HallConfig) -> dict[str, Any]:
    return {
        "code": config.code,
        "name_zh": config.name_zh,
        "name_en": config.name_en,
        "timezone": config.timezone,
        "notice": config.notice,
        "silent_zones": sorted(config.silent_zones),
    }


def _window_screen_json(window_id: int) -> dict[str, Any]:
    """The window screen's state; NotFound (a JSON 404 from the app's handler) if no window."""
    engine = _engine()
    window = engine.window(window_id)
    current = engine.current_ticket(window_id)
    config = engine.config_for(window.hall)
    clerk_name = None
    if window.clerk:
        user = hall_services().accounts.find(window.clerk)
        clerk_name = user.display_name if user is not None else None
    return {
        "id": window.config.id,
        "number": window.config.number,
        "name": window.config.name,
        "zone": window.config.zone,
        "hall": _hall_json(config),
        "state": str(window.state),
        "paused_reason": pause_label(window.pause_category),  # never the clerk's own words
        "pause_category": str(window.pause_category) if window.pause_category else None,
        "clerk_name": clerk_name,
        "current": (
            {
                "number": current.number,
                "status": str(current.status),
                "service_name": config.service(current.service).name_zh,
            }
            if current is not None
            else None
        ),
    }
