"""The short prod-check CI runs: the production topology on loopback (LIANXIN_ENV=production, two instances of
every service, a three-node NATS cluster with R3 streams, the OpenID provider of deploy/oidc) under SIGKILLs of
one NATS server and one instance of every service, then the accounts: nothing stuck, lost or done twice.
`make prod-check` runs the same with a few hundred transfers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lianxin import prodcheck
from lianxin.composeenv import TOPOLOGY, load_compose, resolved_environment
from lianxin.oidc import provider_installed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(900),
    # CI installs the provider (`make install`), so there a missing one fails the test instead of skipping it.
    pytest.mark.skipif(
        not provider_installed() and os.environ.get("CI") != "true",
        reason="run `make oidc-install` (npm ci in deploy/oidc)",
    ),
    # In the suite and so in CI (issue #15). It was opt-in while instances restarted during a NATS outage exited
    # at start; with the start retried (shared.runtime) and a supervisor restarting what exits, as compose's
    # restart policy does, it passed three runs in a row here at a load of 7-10. LIANXIN_PROD_CHECK_TEST=0
    # leaves it out of a local run (it takes two to four minutes).
    pytest.mark.skipif(
        os.environ.get("LIANXIN_PROD_CHECK_TEST") == "0",
        reason="left out with LIANXIN_PROD_CHECK_TEST=0",
    ),
]


def test_a_short_prod_check_loses_nothing_under_faults_with_the_compose_files_settings(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    report = prodcheck.run(
        transfers=12, registrations=12, tenants=3, rounds=1, workers=4, root=tmp_path, out=lines.append
    )
    rendered = "\n".join(lines)
    assert report.faults.nats_kills == 1 and report.faults.instance_kills == 4, rendered
    assert report.started == 12 and report.completed + report.compensated == 12, rendered
    assert report.compensated == 2, "one in five is refused by the receiver and must be compensated"
    assert report.stuck == 0 and report.lost == 0, rendered
    # An instance that ended cleanly was stopped by someone, not crashed: restarted ones used to get SIGTERM when
    # the fault injector's thread ended (PR_SET_PDEATHSIG follows the thread that started them).
    assert not [c for c in report.faults.crashes if "exited (0)" in c], rendered
    assert sum(report.duplicates.values()) == 0, rendered
    assert report.registered == 24 and report.on_registry == 24, rendered
    # Every event the transfer saga stored went out and every consumer took all of it.
    assert report.events["transfer"]["published"] > 0 and report.events["registry"]["published"] > 0, rendered
    assert all(c["pending"] == 0 and c["acked_through"] >= c["last"] for c in report.consumers.values()), (
        rendered
    )
    assert report.consumers["registry-from-transfer"]["messages"] > 0, rendered
    assert report.takeovers and report.ok, rendered
    assert "result: OK" in rendered

    # One source: what compose gives a service is what prod-check gave it, but the topology's addresses.
    compose = load_compose()
    for instance, env in report.environments.items():
        service = instance.rsplit("-", 1)[0]
        assert env["LIANXIN_ENV"] == "production", instance
        operator = {k: env[k] for k in ("CIPHER_KEY", "PLATFORM_SECRET", "AUTH_ISSUER", "AUTH_JWKS_URL")}
        operator |= {
            "LIANXIN_DB_PASSWORD": "x",
            "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "x"),
            "TRANSFER_CLIENT_SECRET": env.get("SERVICE_CLIENT_SECRET", "x"),
            "NOTIFY_CLIENT_SECRET": env.get("SERVICE_CLIENT_SECRET", "x"),
            f"{service.upper()}_AUDIT_SIGNING_KEY": env["AUDIT_SIGNING_KEY"],
        }
        expected = resolved_environment(compose["services"][service], operator)
        assert set(env) == set(expected), f"{instance}: {set(env) ^ set(expected)}"
        differing = {k for k in env if env[k] != expected[k]}
        assert differing <= TOPOLOGY, f"{instance} differs from compose in {sorted(differing - TOPOLOGY)}"
        assert env["JETSTREAM_REPLICAS"] == "3" and env["NATS_URL"].count("nats://") == 3
