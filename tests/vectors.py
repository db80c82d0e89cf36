"""Test vectors kept as data (tests/vectors/*.json)."""

import json
from pathlib import Path

HERE = Path(__file__).parent / "vectors"
PROTOCOL = json.loads((HERE / "protocol.json").read_text(encoding="utf-8"))
#: Sign-text edge cases, also read by the Rust tests (rust/src/sign_text/mod.rs).
SIGN_TEXT = json.loads((HERE / "sign_text.json").read_text(encoding="utf-8"))
