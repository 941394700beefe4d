"""The demo hall ZMD (``queue_engine.seed``) as a planning scenario.

About 2,000 citizens a working day, as in the yearbook, over the morning (09:00–12:00) and
afternoon (13:00–17:00) sessions with a lunch break, a morning peak and a smaller afternoon one.
Handling times are lognormal around 60 % of each service's standard time (the standard is the
norm a clerk should stay under, not the average).
"""

from __future__ import annotations

from typing import Any

from queue_engine.seed import DEMO_SERVICES, DEMO_WINDOWS

from .scenario import Scenario, parse_scenario

# share of the day's citizens per service, and the hourly profile 09:00 … 16:00 (12:00 closed)
DEMO_MIX = {
    "ENT": 0.07, "PERMIT": 0.03, "REALTY": 0.14, "DEEDTAX": 0.06, "TAX": 0.10, "SOCIAL": 0.15,
    "MEDICAL": 0.12, "HPF": 0.09, "RESIDENCE": 0.08, "TALENT": 0.04, "ELDER": 0.05,
    "POLICY": 0.05, "COMPLAINT": 0.02,
}  # fmt: skip
DEMO_PROFILE = (0.17, 0.19, 0.15, 0.0, 0.13, 0.15, 0.13, 0.08)
HANDLING_FACTOR = 0.6


# a nine-hour day (08:30–17:30) without a closed lunch hour: lunches are staggered by the plan
NINE_HOUR_PROFILE = (0.09, 0.14, 0.15, 0.13, 0.08, 0.08, 0.12, 0.12, 0.09)


def demo_scenario(
    days: int = 1,
    per_day: float = 2000.0,
    profile: tuple[float, ...] = DEMO_PROFILE,
    **extra: Any,
) -> Scenario:
    """A scenario of the demo hall for ``days`` working days with ``per_day`` citizens each."""
    breaks = [{"start": "12:00", "end": "13:00"}] if profile == DEMO_PROFILE else []
    services = [
        {
            "code": s.code,
            "arrivals_per_hour": [round(per_day * DEMO_MIX[s.code] * p, 3) for p in profile],
            "service_time": {
                "dist": "lognormal",
                "mean_minutes": round(s.standard_minutes * HANDLING_FACTOR, 2),
                "cv": 0.7,
            },
            "appointment_share": 0.2 if s.code in ("ENT", "REALTY", "HPF") else 0.0,
            "priority_share": 0.25 if s.code == "ELDER" else 0.05,
            "patience": {"dist": "exponential", "mean_minutes": 60},
        }
        for s in DEMO_SERVICES
    ]
    windows = [
        {
            "id": w.number,
            "services": list(w.primary),
            "secondary": list(w.secondary),
            "breaks": breaks,
        }
        for w in DEMO_WINDOWS
    ]
    data: dict[str, Any] = {
        "name": f"ZMD demo hall, {days} day{'s' if days > 1 else ''}",
        "hall": "ZMD",
        "days": days,
        "open": "09:00",
        "close": "17:00",
        **({} if profile == DEMO_PROFILE else {"open": "08:30", "close": f"{8 + len(profile)}:30"}),
        "services": services,
        "windows": windows,
        "no_show_rate": 0.03,
        "targets": {"mean_wait_minutes": 5, "within_minutes": 15, "share": 0.9},
        **extra,
    }
    return parse_scenario(data)
