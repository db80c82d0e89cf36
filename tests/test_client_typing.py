"""The client's types, as a user's mypy --strict sees them (tests/typing/): every method
returns its answer model, and a typo in an answer attribute is refused. The whole package
is itself clean under --strict."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import mypy  # noqa: F401  (a test extra: missing, the tests fail rather than skip)
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
USAGE = "tests/typing/client_usage.py"
TYPOS = "tests/typing/client_typos.py"
PACKAGE = "python/medpay_core"
_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<text>.*?)(?:  \[(?P<code>[a-z-]+)\])?$")


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """mypy --strict's errors on the scripts and the package, as {path: [(line, code, text)]}."""
    cache = tmp_path_factory.mktemp("mypy-cache")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--show-error-codes", "--no-error-summary",
         "--no-pretty", "--cache-dir", str(cache), USAGE, TYPOS, PACKAGE],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 2 would be a crash or bad usage
    found: dict[str, list[tuple[int, str, str]]] = {}
    for line in run.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            found.setdefault(m["path"], []).append((int(m["line"]), m["code"] or "", m["text"]))
    return found


def expected_errors(path: str) -> set[tuple[int, str]]:
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return {(n, m.group(1)) for n, text in enumerate(lines, 1) if (m := re.search(r"# expect: ([a-z-]+)", text))}


def test_a_script_calling_every_method_type_checks_with_the_answer_models(reported):
    # assert_type in the script fails the check when a method's inferred type is not its model.
    assert reported.get(USAGE, []) == []


def test_the_usage_script_covers_every_client_method():
    from medpay_core import models

    text = (ROOT / USAGE).read_text(encoding="utf-8")
    for t in models.TRANSACTIONS.values():
        if t.method:
            assert f"client.{t.method}(" in text and f'client.call("{t.code}"' in text
            assert f"await client.{t.method}(" in text and f'await client.call("{t.code}"' in text
    assert "client.wait_for_settlement(" in text and "await client.wait_for_settlement(" in text


def test_typos_in_answer_attributes_and_wrong_requests_are_refused(reported):
    expected = expected_errors(TYPOS)
    assert len(expected) >= 6
    got = {(line, code) for line, code, _ in reported.get(TYPOS, [])}
    assert got == expected
    texts = " ".join(text for _, _, text in reported[TYPOS])
    assert '"QueryOrderResponse" has no attribute "ord_stas_typo"' in texts


def test_the_package_is_clean_under_mypy_strict(reported):
    assert {p: e for p, e in reported.items() if p.startswith(PACKAGE)} == {}
    assert (ROOT / PACKAGE / "py.typed").exists()  # users' mypy reads our types
