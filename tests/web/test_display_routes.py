"""The display blueprint over HTTP: pages, the window screen's JSON, the server's voice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from display.audio import Synthesizer
from display.routes import SPEECH
from tests.helpers.display import CLERK_NAMES, CLERK_PASSWORD, fake_espeak

API = "/api/v1"


@pytest.fixture
def app(display_app: Any) -> Any:
    """The display hall of ``conftest.py`` (clerks with display names) under the usual name."""
    return display_app


def login(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post(
        f"{API}/auth/token", json={"username": username, "password": CLERK_PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def window_id(client: FlaskClient, number: int) -> int:
    windows = client.get(f"{API}/halls/ZMD/windows").get_json()["windows"]
    return next(w["id"] for w in windows if w["number"] == number)  # type: ignore[no-any-return]


def page_data(html: str) -> str:
    found = re.search(r'<script id="display-data" type="application/json">(.*?)</script>', html)
    assert found, html[:500]
    return found.group(1)


# -- pages ---------------------------------------------------------------------------------


def test_the_board_page_carries_the_hall_and_its_settings(client: FlaskClient) -> None:
    response = client.get("/display/board/ZMD?repeat=3&silent=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "驻马店市民中心" in html
    assert "/vendor/socket.io-client/dist/socket.io.min.js" in html
    assert "/display/static/display/board.js" in html
    data = page_data(html)
    assert '"repeat": 3' in data and '"silent": true' in data and '"zone": null' in data


def test_the_repeat_count_is_kept_within_reason(client: FlaskClient) -> None:
    assert '"repeat": 5' in page_data(client.get("/display/board/ZMD?repeat=99").get_data(True))
    assert '"repeat": 1' in page_data(client.get("/display/board/ZMD?repeat=0").get_data(True))
    assert '"repeat": 2' in page_data(client.get("/display/board/ZMD?repeat=x").get_data(True))


def test_a_zone_board_names_its_zone(client: FlaskClient) -> None:
    response = client.get("/display/board/ZMD", query_string={"zone": "社保医保公积金区"})
    assert response.status_code == 200
    assert "社保医保公积金区" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/display/board/NOPE", "/display/board/ZMD?zone=nowhere", "/display/window/999"]
)
def test_unknown_halls_zones_and_windows_are_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_directory_links_every_board_and_window_screen(client: FlaskClient) -> None:
    html = client.get("/display/halls/ZMD").get_data(as_text=True)
    assert html.count('href="/display/window/') == 22
    assert "/display/board/ZMD?zone=" in html


def test_the_window_page_starts_with_the_window_number_and_name(client: FlaskClient) -> None:
    html = client.get(f"/display/window/{window_id(client, 10)}").get_data(as_text=True)
    assert "社会保障1" in html and ">10<" in html


# -- the window screen's JSON --------------------------------------------------------------


def test_the_window_screen_shows_the_clerks_display_name_not_the_username(
    client: FlaskClient,
) -> None:
    wid = window_id(client, 10)
    closed = client.get(f"/display/api/windows/{wid}").get_json()
    assert closed["state"] == "closed" and closed["clerk_name"] is None
    headers = login(client, "clerk10")
    assert client.post(f"{API}/windows/{wid}/open", headers=headers).status_code == 200
    client.post(f"{API}/halls/ZMD/tickets", json={"service": "SOCIAL", "channel": "app"})
    assert client.post(f"{API}/windows/{wid}/call-next", headers=headers).status_code == 200
    screen = client.get(f"/display/api/windows/{wid}").get_json()
    assert screen["number"] == 10 and screen["name"] == "社会保障1"
    assert screen["state"] == "open"
    assert screen["clerk_name"] == CLERK_NAMES["clerk10"]
    assert screen["current"] == {"number": "F001", "status": "called", "service_name": "社会保障"}
    assert "clerk10" not in str(screen)  # the username stays off public screens


def test_a_paused_window_screen_gives_the_reason(client: FlaskClient) -> None:
    wid = window_id(client, 11)
    headers = login(client, "clerk11")
    client.post(f"{API}/windows/{wid}/open", headers=headers)
    response = client.post(f"{API}/windows/{wid}/pause", headers=headers, json={"reason": "午休"})
    assert response.status_code == 200
    screen = client.get(f"/display/api/windows/{wid}").get_json()
    assert (screen["state"], screen["paused_reason"]) == ("paused", "午休")


# -- announcements and the server's voice --------------------------------------------------


def test_the_announcement_text_endpoint_builds_the_phrase(client: FlaskClient) -> None:
    body = client.get("/display/api/announcement?number=A023&window=15").get_json()
    assert body == {
        "number": "A023",
        "window": 15,
        "text": "请 A023 号到 15 号窗口办理",
        "speech": "请 A 零 二 三 号,到 十五 号窗口办理",
    }


@pytest.mark.parametrize(
    "query",
    [
        "number=A023",
        "window=5",
        "number=hello&window=5",
        "number=A023&window=five",
        "number=A023&window=5&text=anything",  # extra text is ignored, see below
    ],
)
def test_announcement_parameters_are_checked(client: FlaskClient, query: str) -> None:
    response = client.get(f"/display/api/announcement?{query}")
    if "text=" in query:
        assert response.get_json()["text"] == "请 A023 号到 5 号窗口办理"
        return
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid"


@pytest.fixture
def fake_speech(app: Any, tmp_path: Path) -> Synthesizer:
    """The app's synthesizer with a stand-in espeak-ng (see test_audio.py)."""
    speech: Synthesizer = app.extensions[SPEECH]
    speech.executable = str(fake_espeak(tmp_path))
    return speech


def test_the_server_speaks_a_call_and_serves_the_recording(
    client: FlaskClient, fake_speech: Synthesizer
) -> None:
    response = client.get("/display/api/announcement/audio?hall=ZMD&number=A023&window=5")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["text"] == "请 A023 号到 5 号窗口办理"
    assert re.fullmatch(r"/display/audio/[0-9a-f]{32}\.wav", body["audio"])
    recording = client.get(body["audio"])
    assert recording.status_code == 200
    assert recording.mimetype == "audio/wav"
    assert recording.data.startswith(b"RIFF")
    recording.close()
    assert fake_speech.cache_dir.parent.name == "instance"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("hall=ZMD&number=A023", 422),
        ("hall=ZMD&number=Z023&window=5", 422),  # no service of ZMD has prefix Z
        ("hall=ZMD&number=A023&window=23", 404),  # ZMD has 22 windows
        ("hall=NOPE&number=A023&window=5", 404),
        ("number=A023&window=5", 404),
        ("hall=ZMD&number=请随便说点什么&window=5", 422),
    ],
)
def test_only_calls_the_hall_could_make_are_spoken(
    client: FlaskClient, fake_speech: Synthesizer, query: str, status: int
) -> None:
    response = client.get(f"/display/api/announcement/audio?{query}")
    assert response.status_code == status
    assert set(response.get_json()) >= {"error", "message"}
    assert not list(fake_speech.cache_dir.glob("*.wav"))


def test_without_espeak_ng_the_voice_endpoint_says_503_and_pages_still_work(
    app: Any, client: FlaskClient
) -> None:
    app.extensions[SPEECH].executable = None
    response = client.get("/display/api/announcement/audio?hall=ZMD&number=A023&window=5")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "speech_unavailable"
    assert "espeak-ng" in body["message"]
    assert body["text"] == "请 A023 号到 5 号窗口办理"
    assert client.get("/display/board/ZMD").status_code == 200


@pytest.mark.parametrize(
    "path", ["/display/audio/0123456789abcdef0123456789abcdef.wav", "/display/audio/..%2f.wav"]
)
def test_unknown_recordings_are_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_json_endpoints_answer_errors_in_json(client: FlaskClient) -> None:
    for path in ["/display/api/windows/999", "/display/api/announcement/audio?hall=NOPE"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


# -- the kiosk's 长辈版 (issue 18) ---------------------------------------------------------------


def test_the_server_speaks_a_service_name_or_a_kiosk_phrase_for_the_elder_mode(
    client: FlaskClient, fake_speech: Synthesizer
) -> None:
    service = client.get("/display/api/speech?hall=ZMD&service=SOCIAL").get_json()
    assert service["text"] == "社会保障"
    recording = client.get(service["audio"])
    assert recording.data.startswith(b"RIFF")
    recording.close()
    phrase = client.get("/display/api/speech?hall=ZMD&phrase=take").get_json()
    assert phrase["text"] == "确认取号"
    assert phrase["audio"] != service["audio"]


@pytest.mark.parametrize(
    "query",
    [
        "hall=ZMD&service=NOPE",
        "hall=ZMD&phrase=请随便说点什么",
        "hall=ZMD",
        "hall=NOPE&service=SOCIAL",
        "hall=ZMD&text=随便",
    ],
)
def test_the_kiosk_speech_says_nothing_but_the_halls_names_and_fixed_phrases(
    client: FlaskClient, fake_speech: Synthesizer, query: str
) -> None:
    response = client.get(f"/display/api/speech?{query}")
    assert response.status_code == 404
    assert not list(fake_speech.cache_dir.glob("*.wav"))
