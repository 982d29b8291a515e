"""The demo, seeded idempotently through the public HTTP API: organisation codes and Idempotency-Keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.auth import issue_dev_token


@dataclass(frozen=True)
class OrgSeed:
    code: str
    name: str
    kind: str
    parent: str | None


DEMO: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "demo-university": {
        "orgs": [
            ("UNIV", "示范大学党委", "primary_committee", ""),
            ("CS", "计算机学院党总支", "general_branch", "UNIV"),
            ("ECON", "经济学院党总支", "general_branch", "UNIV"),
            ("CS-S1", "计算机学院本科生第一党支部", "branch", "CS"),
            ("CS-G1", "计算机学院研究生党支部", "branch", "CS"),
            ("ECON-S1", "经济学院本科生党支部", "branch", "ECON"),
            ("ECON-T1", "经济学院教工党支部", "branch", "ECON"),
        ],
        "members": [
            ("CS-S1", "李明", "probationary", "male", "20030512"),
            ("CS-S1", "王芳", "full", "female", "20020118"),
            ("CS-G1", "张伟", "full", "male", "19990923"),
            ("ECON-S1", "刘洋", "probationary", "male", "20040301"),
            ("ECON-T1", "陈静", "full", "female", "19860707"),
        ],
    },
    "demo-district": {
        "orgs": [
            ("DIST", "示范区委组织部", "org_department", ""),
            ("EAST", "东城街道党工委", "street_committee", "DIST"),
            ("EAST-C1", "东城社区党支部", "branch", "EAST"),
            ("EAST-E1", "东城非公企业联合党支部", "branch", "EAST"),
        ],
        "members": [
            ("EAST-C1", "赵磊", "full", "male", "19780214"),
            ("EAST-E1", "孙丽", "full", "female", "19900630"),
            ("EAST-E1", "周强", "probationary", "male", "19951111"),
        ],
    },
}


def hash_code(text: str) -> int:
    """A stable small number from text (Python's hash() changes between runs)."""
    return sum(ord(c) * (i + 1) for i, c in enumerate(text))


def demo_national_id(tenant: str, n: int, born: str) -> str:
    """Fictional but well-formed (GB 11643 check digit), the same on every run so seeding stays idempotent."""
    region = "110108" if tenant == "demo-university" else "110101"
    body = f"{region}{born}{(hash_code(tenant) + n) % 900 + 100:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def seed_demo(registry_url: str, signing_key: Path) -> dict[str, int]:
    """Returns how many organisations and members each tenant has after seeding."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=registry_url, timeout=30) as client:
        for tenant, demo in DEMO.items():
            token = issue_dev_token(signing_key, tenant=tenant, roles=["committee"], subject="demo-seeder")
            headers = {"Authorization": f"Bearer {token}"}
            ids: dict[str, str] = {}
            for code, name, kind, parent in demo["orgs"]:
                body = {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "parent_id": ids.get(parent) if parent else None,
                }
                response = client.post(
                    "/v1/organisations", json=body, headers={**headers, "Idempotency-Key": f"demo-org-{code}"}
                )
                if response.status_code == 409:  # founded by an earlier run without this key
                    listing = client.get("/v1/organisations", headers=headers, params={"limit": 500}).json()
                    ids[code] = next(o["id"] for o in listing["items"] if o["code"] == code)
                    continue
                response.raise_for_status()
                ids[code] = response.json()["id"]
            for n, (branch, name, category, gender, born) in enumerate(demo["members"]):
                response = client.post(
                    "/v1/members",
                    json={
                        "name": name,
                        "organisation_id": ids[branch],
                        "category": category,
                        "gender": gender,
                        "ethnicity": "汉族",
                        "birth_date": f"{born[:4]}-{born[4:6]}-{born[6:]}",
                        "national_id_number": demo_national_id(tenant, n, born),
                        "phone": f"1380000{abs(hash_code(tenant)) % 100:02d}{n:02d}",
                    },
                    headers={**headers, "Idempotency-Key": f"demo-member-{n}"},
                )
                response.raise_for_status()
            counts[tenant] = len(demo["orgs"]) + len(demo["members"])
    return counts
