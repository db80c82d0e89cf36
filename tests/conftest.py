"""Shared fixtures. Keep this small: helpers live in their own modules (center_server.py)."""

from __future__ import annotations

import os

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


def pytest_collection_modifyitems(items):
    """MEDPAY_HYPOTHESIS_MAX_EXAMPLES=N caps every property test at N examples, for slow
    runs such as scripts/test_aarch64_python.sh under qemu. Unset (the default), nothing
    changes. A hypothesis profile would not do: the tests' own @settings(max_examples=...)
    win over any profile, so the cap is applied to each test's settings."""
    cap = os.environ.get("MEDPAY_HYPOTHESIS_MAX_EXAMPLES")
    if not cap:
        return
    from hypothesis import settings

    for item in items:
        test = getattr(item, "obj", None)
        test = getattr(test, "__func__", test)  # a method's function holds the settings
        current = getattr(test, "_hypothesis_internal_use_settings", None)
        if isinstance(current, settings) and current.max_examples > int(cap):
            test._hypothesis_internal_use_settings = settings(current, max_examples=int(cap))
