"""The hall's identity rule (issue 18): its modes, limits and ages, and their validation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hall_app.admin.schemas import IdentityRulesIn
from queue_engine.domain.visits import IdentityMode, IdentityRule

MODES = st.sampled_from(["off", "optional", "required"])
CODES = st.sampled_from(["SOCIAL", "MEDICAL", "HPF", "TAX"])


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    per_service = draw(st.integers(1, 20))
    return {
        "mode": draw(MODES),
        "services": draw(st.dictionaries(CODES, MODES, max_size=4)),
        "per_service": per_service,
        "total": draw(st.integers(per_service, 20)),
        "elderly_age": draw(st.integers(50, 120)),
        "zone_ages": draw(
            st.dictionaries(st.sampled_from(["老年服务专区", "A区"]), st.integers(50, 120))
        ),
    }


@given(rules())
def test_a_valid_rule_survives_storage_and_the_admin_model_alike(data: dict[str, Any]) -> None:
    rule = IdentityRule.from_mapping(data)
    assert IdentityRule.from_mapping(rule.to_mapping()) == rule
    assert rule.to_mapping() == {**data, "services": dict(sorted(data["services"].items()))}
    assert IdentityRulesIn.model_validate(data).model_dump() == data


@given(
    st.sampled_from(["per_service", "total", "elderly_age"]),
    st.one_of(st.integers(-1000, 1000), st.just("7"), st.just(7.5), st.none()),
)
def test_an_out_of_range_value_is_refused_by_both_or_by_neither(name: str, value: Any) -> None:
    data: dict[str, Any] = {"per_service": 1, "total": 20, "elderly_age": 70, name: value}
    try:
        IdentityRule.from_mapping(data)
        domain_ok = True
    except (ValueError, TypeError):
        domain_ok = False
    try:
        IdentityRulesIn.model_validate(data)
        model_ok = True
    except ValidationError:
        model_ok = False
    limits = (1, 20) if name != "elderly_age" else (50, 120)
    in_range = type(value) is int and limits[0] <= value <= limits[1]
    assert domain_ok is in_range
    if type(value) is int or value is None:  # the form's "7" and 7.5 the model coerces/refuses
        assert model_ok is in_range


@pytest.mark.parametrize(
    "bad",
    [
        {"mode": "sometimes"},
        {"services": {"SOCIAL": "always"}},
        {"per_service": 3, "total": 2},
        {"zone_ages": {"老年服务专区": 30}},
        {"elderly_age": 121},
        {"colour": "red"},
    ],
)
def test_bad_rules_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        IdentityRule.from_mapping(bad)
    with pytest.raises(ValidationError):
        IdentityRulesIn.model_validate(bad)


def test_a_tickets_mode_is_required_if_one_service_requires_off_if_all_are_off() -> None:
    rule = IdentityRule(mode="optional", services={"HPF": "required", "TAX": "off"})
    assert rule.mode_for(["SOCIAL"]) is IdentityMode.OPTIONAL
    assert rule.mode_for(["SOCIAL", "HPF"]) is IdentityMode.REQUIRED
    assert rule.mode_for(["TAX"]) is IdentityMode.OFF
    assert rule.mode_for(["TAX", "SOCIAL"]) is IdentityMode.OPTIONAL
    strict = IdentityRule(mode="required", services={"TAX": "optional"})
    assert strict.required and strict.mode_for(["TAX"]) is IdentityMode.OPTIONAL
    assert IdentityRule(required=True).mode_for(["X"]) is IdentityMode.REQUIRED


def test_the_defaults_are_those_of_the_issue() -> None:
    rule = IdentityRule.from_mapping(None)
    assert rule == IdentityRule()
    assert (rule.per_service, rule.total, rule.elderly_age) == (1, 3, 70)
    assert rule.zone_elderly_age == {"老年服务专区": 60} and rule.mode is IdentityMode.OPTIONAL
    assert IdentityRule(elderly_age=65).elderly(65, ["社保医保公积金区"])
