"""The docs' tables of transactions say what models.TRANSACTIONS says: docs/transactions.md's
table of models and docs/protocol.md §1's table of endpoints (docs/en/client.md's is checked in
test_client)."""

from __future__ import annotations

import pathlib
import re

from medpay_core import models

ROOT = pathlib.Path(__file__).resolve().parent.parent


def table_after(text: str, header: str) -> list[list[str]]:
    rows = []
    for line in text.split(header, 1)[1].splitlines()[1:]:
        if not line.strip().startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return [r for r in rows if not set("".join(r)) <= set("-")]


def test_the_transactions_page_names_each_transactions_path_and_models():
    rows = table_after((ROOT / "docs" / "transactions.md").read_text(encoding="utf-8"), "| code | request | response |")
    assert [r[0].split()[0] for r in rows] == sorted(models.TRANSACTIONS)
    for first, request, response in rows:
        t = models.TRANSACTIONS[first.split()[0]]
        assert re.match(rf"`{t.request.__name__}`", request), first
        assert (t.response is None and response == "") or response.startswith(f"`{t.response.__name__}`")
        assert (f"`{t.path}`" in first) == (t.path is not None), first


def test_protocol_section_1_lists_exactly_the_posted_endpoints():
    rows = table_after((ROOT / "docs/protocol.md").read_text(encoding="utf-8"), "| code | name | what |")
    assert {r[0]: r[1].strip("`") for r in rows} == {t.code: t.path for t in models.TRANSACTIONS.values() if t.path}
