"""Administration: halls, services, windows and skills, rules and users (API, pages, CLI).

``admin_api`` is the blueprint the app registers; registering it also sets up the desk, the
admin pages and CSRF exemption of the bearer-token API.
"""

from flask.blueprints import BlueprintSetupState

from ..extensions import csrf
from .api import admin_api
from .desk import init_desk
from .pages import admin_pages


def _set_up(state: BlueprintSetupState) -> None:
    app = state.app
    init_desk(app)  # type: ignore[arg-type]
    csrf.exempt(admin_api)  # bearer tokens only, like the rest of the API
    app.register_blueprint(admin_pages)


admin_api.record_once(_set_up)
admin = admin_api

__all__ = ["admin", "admin_api", "admin_pages"]
