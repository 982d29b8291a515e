"""行政区划代码: six digits and a province-level prefix; a bad code is an Invalid naming the field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.errors import Invalid
from shared.regions import RegionCode, check_region, region_problem


@pytest.mark.parametrize("code", ["440305", "110105", "650102", "810000", "310000"])
def test_codes_of_existing_provinces_pass(code: str) -> None:
    assert region_problem(code) is None
    assert check_region(code) == code


@pytest.mark.parametrize("code", ["44030", "4403055", "44O305", "990101", "000000", "", "深圳市南山区"])
def test_other_codes_are_refused_naming_the_field(code: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_region(code, field="host_region")
    assert refused.value.extensions == {"field": "host_region"}


def test_a_request_model_refuses_a_bad_code_at_its_field() -> None:
    class Body(BaseModel):
        host_region: RegionCode | None = None

    assert Body(host_region=None).host_region is None
    with pytest.raises(ValidationError) as refused:
        Body(host_region="990101")
    assert refused.value.errors()[0]["loc"] == ("host_region",)
