"""``/``: where a new shop finds its pages: the shop's name, its tills, the kiosk and manager pages, and
the service's state, in the shop's language. Public, so it shows no personal data (no staff, no customers).
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from pos_referral.services import tills
from pos_referral.web.auth import current_central, current_store
from pos_referral.web.promo.public import public_page
from pos_referral.web.service_state import service_state

bp = Blueprint("home", __name__)


@bp.get("/")
def home() -> Response:
    """The shop's front page for its staff: links and state."""
    store = current_store()
    config = store.settings.config
    central = current_central() is not None  # central has no tills or kiosk: only the chain dashboard
    return public_page("home.html", shop=config.store.name, central=central,
                       tills=[] if central else tills.active_tills(store.ctx),
                       kiosk=config.kiosk.enabled and not central, state=service_state(store, central=central))
