"""The documentation: every code block of every page runs (tests/docs_blocks.py says how each
kind runs), every page is on the site, and the site builds without a warning."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docs_blocks import ROOT, Block, blocks, includes, run_page
from pg_support import _unavailable, pg_cluster, pg_conninfo  # noqa: F401 (fixtures)

sys.path.insert(0, str(ROOT / "scripts"))
from griffe_docstrings import markdown_of  # noqa: E402

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]
#: Pages whose blocks need a PostgreSQL server (DATABASE_URL).
NEEDS_POSTGRES = {"en/notices.md"}


def name(page: Path) -> str:
    return page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else page.name


def nav_pages() -> set[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return set(re.findall(r":\s*([\w/.-]+\.md)\s*$", text, re.M))


def test_every_page_is_on_the_site():
    on_disk = {name(p) for p in PAGES if p.is_relative_to(DOCS)}
    assert on_disk == nav_pages()


def test_the_pages_have_code_and_every_block_is_a_kind_the_tests_run():
    found = [b for p in PAGES for b in blocks(p)]
    assert len(found) >= 60
    assert {b.lang for b in found} <= {"python", "pycon", "sh", "json", "text"}, \
        [b.where() for b in found if b.lang not in {"python", "pycon", "sh", "json", "text"}]


def test_every_included_file_is_run_by_a_test():
    """A block that includes an example is run where that example is tested."""
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    included = [(b, f) for p in PAGES for b in blocks(p) for f in includes(b)]
    assert included, "the recipes are included from examples/"
    for block, path in included:
        assert (ROOT / path).is_file(), f"{block.where()}: {path} is missing"
        assert Path(path).name in tests, f"{block.where()}: no test runs {path}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_block_of_the_page_runs(page: Path, tmp_path: Path, request: pytest.FixtureRequest):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
               XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path))
    if name(page) in NEEDS_POSTGRES:
        env["DATABASE_URL"] = request.getfixturevalue("pg_conninfo")
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "docs_blocks.py"), str(page)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("ok"), done.stdout[-3000:] + done.stderr[-3000:]


def test_a_failing_block_fails_the_page(tmp_path: Path):
    """The runner is not a test that cannot fail: a wrong output or a failing command fails."""
    page = tmp_path / "bad.md"
    for body in ("```pycon\n>>> 1 + 1\n3\n```\n", "```sh\nfalse\n```\n", "```python\nraise ValueError\n```\n",
                 "```ini\nx = 1\n```\n"):
        page.write_text(body, encoding="utf-8")
        with pytest.raises((AssertionError, ValueError)):
            run_page(page)


def test_blocks_keep_their_language_and_line():
    page = ROOT / "docs" / "first-call.md"
    first = blocks(page)[0]
    assert isinstance(first, Block) and first.lang == "python" and first.line > 1
    assert page.read_text(encoding="utf-8").splitlines()[first.line - 1].startswith("```python")


def test_docstrings_become_markdown_for_the_api_reference():
    assert markdown_of("Use :class:`Foo` or :func:`~.bar`.") == "Use `Foo` or `.bar`."
    assert markdown_of("Text\n\n>>> 1 + 1\n2\n\nMore") == "Text\n\n```pycon\n>>> 1 + 1\n2\n```\n\nMore"
    assert markdown_of("    >>> x\n    1") == "    ```pycon\n    >>> x\n    1\n    ```"


def test_the_site_builds_without_a_warning(tmp_path: Path):
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        _unavailable("mkdocs is not installed (the docs extra)")
    done = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr, done.stderr[-3000:]
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    # The reference comes from the docstrings: a class and a doctest rendered as code.
    assert "MedpayClient" in api and "OutcomeUnknown" in api and '<span class="gp">&gt;&gt;&gt; </span>' in api
