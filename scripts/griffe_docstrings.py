"""A griffe extension for the docs site: our docstrings are written for ``help()`` and
doctest (reST roles, bare ``>>>`` examples); mkdocstrings reads them as Markdown, where a
``>>>`` line is a quote and ``:class:`X``` is noise. This turns each doctest run into a
``pycon`` code block and each role into inline code, before griffe parses the sections.

Example: ``markdown_of("Use :class:`Foo`.")`` is ``"Use `Foo`."``; mkdocs.yml names it
under the python handler's ``extensions``; tests/test_docs.py checks it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")


def markdown_of(text: str) -> str:
    """The docstring with doctest runs fenced (up to the next blank line) and roles as code."""
    out: list[str] = []
    in_run = False
    for line in text.splitlines():
        stripped = line.lstrip()
        if not in_run and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            in_run = True
        elif in_run and not stripped:
            out.append(f"{indent}```")
            in_run = False
        out.append(line if in_run else _ROLE.sub(r"`\1`", line))
    if in_run:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestAsCode(griffe.Extension):
    """Rewrites every docstring griffe loads (modules, classes, functions, attributes)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
