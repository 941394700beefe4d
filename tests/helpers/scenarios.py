"""The example scenario shipped with the simulations: a weekday at the demo hall."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "simulations" / "scenarios" / "weekday.yaml"
