"""行政区划代码 (GB/T 2260): a 6-digit code whose first two digits name a province-level division.

A light check, not the full table (it changes every year): six digits, a province-level prefix that exists, and
not the all-zero county and prefecture of a code that is only a province. A code that passes is stored as given;
statistics roll it up to its province (`xx0000`).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from shared.errors import Invalid

# 11 北京 ... 65 新疆; 71 台湾, 81 香港, 82 澳门.
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}
_CODE = re.compile(r"^[0-9]{6}$")


def region_problem(code: str) -> str | None:
    """Why `code` is not a 行政区划代码, or None when it is one."""
    if not _CODE.match(code):
        return "a 行政区划代码 has six digits, e.g. 440305 (深圳市南山区)"
    if code[:2] not in PROVINCES:
        return f"{code[:2]} is not a province-level 行政区划 prefix"
    return None


def check_region(code: str | None, field: str = "host_region") -> str | None:
    """The code, or an Invalid naming `field` (a 422 over HTTP)."""
    if code is None:
        return None
    problem = region_problem(code)
    if problem is not None:
        raise Invalid(problem, field=field)
    return code


def _pydantic(code: str) -> str:
    problem = region_problem(code)
    if problem is not None:
        raise ValueError(problem)
    return code


RegionCode = Annotated[str, AfterValidator(_pydantic)]
"""For request models: a bad code is a 422 that names the field."""
