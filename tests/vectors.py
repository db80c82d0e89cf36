"""Test vectors kept as data (tests/vectors/*.json)."""

import json
from pathlib import Path

PROTOCOL = json.loads((Path(__file__).parent / "vectors" / "protocol.json").read_text(encoding="utf-8"))
