"""Shared fixtures. Keep this small: helpers live in their own modules (center_server.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def center():
    """A local payment center on 127.0.0.1 (see center_server.LocalCenter)."""
    from center_server import LocalCenter

    with LocalCenter() as c:
        yield c


@pytest.fixture(autouse=True)
def _notice_store_per_test(tmp_path, monkeypatch):
    """create_app's default notice store is a file that outlives the process (so a
    restarted HIS does not process a notice twice); each test gets its own, never the
    user's ~/.local/state/medpay."""
    monkeypatch.setenv("MEDPAY_NOTICE_STORE", str(tmp_path / "notices.sqlite3"))
