"""Issue 15 row 12: a hall's history is its own, even when its code holds a LIKE wildcard."""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient

from hall_app.state import hall_services
from queue_engine.domain.access import Actor, Role

API = "/api/v1/admin"


def test_a_hall_code_with_an_underscore_sees_only_its_own_history(
    app: Any, client: FlaskClient, auth: Any
) -> None:
    root = Actor("root", Role.ADMIN)
    with app.test_request_context():
        admin = hall_services().admin
        data = copy.deepcopy(admin.export_hall(root, "ZMD"))
        data["hall"]["code"] = "Z_D"  # "_" matches any one character in LIKE: Z_D ~ ZMD
        admin.import_hall(root, data)
        admin.create_user(
            root, {"username": "zd_super", "role": "supervisor", "hall": "Z_D"}, "zd-super-2026!"
        )
        admin.create_user(
            root, {"username": "zmd_clerk9", "role": "clerk", "hall": "ZMD"}, "zmd-clerk-2026!"
        )
    changes = client.get(f"{API}/halls/ZMD/history", headers=auth("admin")).get_json()["changes"]
    assert any("zmd_clerk9" in str(c) for c in changes)  # the ZMD change is ZMD's history
    token_headers = {"Authorization": f"Bearer {_token(app, 'zd_super')}"}
    response = client.get(f"{API}/halls/Z_D/history", headers=token_headers)
    assert response.status_code == 200, response.get_json()
    theirs = response.get_json()["changes"]
    assert not any("zmd_clerk9" in str(c) for c in theirs), theirs
    assert any("zd_super" in str(c) for c in theirs)


def _token(app: Any, username: str) -> str:
    from hall_app.auth import issue_token

    with app.test_request_context():
        user = hall_services().accounts.find(username)
        assert user is not None
        return issue_token(user)
