"""Shared fixtures. Keep this small: helpers live in their own modules (center_server.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def center():
    """A local payment center on 127.0.0.1 (see center_server.LocalCenter)."""
    from center_server import LocalCenter

    with LocalCenter() as c:
        yield c
