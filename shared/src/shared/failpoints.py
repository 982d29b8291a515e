"""Crash points for fault tests: LIANXIN_FAILPOINTS=name,... kills the process there; never in production."""

from __future__ import annotations

import os
import sys


def hit(name: str) -> None:
    if os.environ.get("LIANXIN_ENV") == "production":
        return
    armed = {p.strip() for p in os.environ.get("LIANXIN_FAILPOINTS", "").split(",") if p.strip()}
    if name in armed:
        sys.stderr.write(f"failpoint {name}: exiting as a crash would\n")
        sys.stderr.flush()
        os._exit(86)
