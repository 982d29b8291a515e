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
            ("CS-S1", "李明", "probationary"), ("CS-S1", "王芳", "full"), ("CS-G1", "张伟", "full"),
            ("ECON-S1", "刘洋", "probationary"), ("ECON-T1", "陈静", "full"),
        ],
    },
    "demo-district": {
        "orgs": [
            ("DIST", "示范区委组织部", "org_department", ""),
            ("EAST", "东城街道党工委", "street_committee", "DIST"),
            ("EAST-C1", "东城社区党支部", "branch", "EAST"),
            ("EAST-E1", "东城非公企业联合党支部", "branch", "EAST"),
        ],
        "members": [("EAST-C1", "赵磊", "full"), ("EAST-E1", "孙丽", "full"), ("EAST-E1", "周强", "probationary")],
    },
}


def seed_demo(registry_url: str, signing_key: Path) -> dict[str, int]:
    """Returns how many organisations and members each tenant has after seeding."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=registry_url, timeout=30) as client:
        for tenant, demo in DEMO.items():
            token = issue_dev_token(signing_key, tenant=tenant, roles=["committee"], subject="demo-seeder")
            headers = {"Authorization": f"Bearer {token}"}
            ids: dict[str, str] = {}
            for code, name, kind, parent in demo["orgs"]:
                body = {"code": code, "name": name, "kind": kind, "parent_id": ids.get(parent) if parent else None}
                response = client.post("/v1/organisations", json=body, headers={
                    **headers, "Idempotency-Key": f"demo-org-{code}"})
                if response.status_code == 409:  # founded by an earlier run without this key
                    listing = client.get("/v1/organisations", headers=headers, params={"limit": 500}).json()
                    ids[code] = next(o["id"] for o in listing["items"] if o["code"] == code)
                    continue
                response.raise_for_status()
                ids[code] = response.json()["id"]
            for n, (branch, name, category) in enumerate(demo["members"]):
                response = client.post("/v1/members", json={
                    "name": name, "organisation_id": ids[branch], "category": category,
                }, headers={**headers, "Idempotency-Key": f"demo-member-{n}"})
                response.raise_for_status()
            counts[tenant] = len(demo["orgs"]) + len(demo["members"])
    return counts
