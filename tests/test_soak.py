"""The soak script's short mode (benchmarks/soak.py): concurrent searches and uploads against a running app
for 20 seconds, over loopback, in a process of its own so that its memory is the app's alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_soak_short_mode():
    command = [sys.executable, str(REPO / "benchmarks" / "soak.py"), "--seconds", "20", "--json"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.stdout, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["errors"] == 0, report["error_messages"]
    assert report["rss_growth"] < 0.10, report["rss_mb"]
    assert done.returncode == 0 and report["ok"]
    endpoints = report["endpoints"]
    assert set(endpoints) == {"search", "similar", "describe"}
    assert endpoints["search"]["requests"] >= 50 and endpoints["describe"]["requests"] >= 5
    assert all(e["p99_ms"] >= e["p50_ms"] > 0 for e in endpoints.values())
