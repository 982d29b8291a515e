"""Analytics reads its settings under the names its documents give (docs/analytics.md, analytics.standby)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from analytics.settings import AnalyticsSettings
from shared.auth import ensure_dev_keypair


def test_the_standby_poll_is_read_from_the_documented_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANALYTICS_STANDBY_POLL_SECONDS", "0.2")
    settings = AnalyticsSettings(
        cipher_key=base64.b64encode(bytes(32)).decode(),
        platform_secret="p" * 32,
        auth_public_key_file=ensure_dev_keypair(tmp_path)[1],
    )
    assert settings.analytics_standby_poll_seconds == 0.2
