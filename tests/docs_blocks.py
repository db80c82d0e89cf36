"""The code blocks of a Markdown page, and how the docs tests run each kind.

Run as a script (``python tests/docs_blocks.py docs/first-call.md``), it runs the page's
blocks in order in the current directory, as a reader pasting them would: ``python``
blocks are executed and ``pycon`` blocks checked by doctest, all in one namespace; ``sh``
blocks run each command with bash (exit 0, or the code a ``# 退出码 N`` comment
states; a server command is started, checked to be listening
and stopped; ``pip install`` is checked against the package's extras); ``json`` blocks
must parse. A block that includes a file (``--8<-- "examples/x.py"``) is run where that
file is tested. ``text`` blocks are output shown to the reader, not code.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
INCLUDE = re.compile(r'^\s*--8<--\s+"([^"]+)"\s*$', re.M)
KINDS = {"python", "pycon", "sh", "json", "text"}
#: Commands that serve until stopped: started, seen listening, stopped.
SERVERS = ("medpay sandbox", "uvicorn ", "flask ", "gunicorn ")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    body: str

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, with its language and the line it starts on."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        indent = len(m.group("indent"))
        body = "\n".join(line[indent:] for line in m.group("body").splitlines())
        out.append(Block(page, text.count("\n", 0, m.start()) + 1, m.group("lang"), body))
    return out


def includes(block: Block) -> list[str]:
    """The files a block includes (pymdownx.snippets), relative to the repository."""
    return INCLUDE.findall(block.body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pip_install(words: list[str]) -> None:
    """``pip install "medpay-core[server]"`` (or ``pip download``): not run, since the
    tests install nothing; the package's name and the extras it names must exist."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [w for w in words[2:] if w.startswith("medpay")]
    assert specs, f"{shlex.join(words)} installs no medpay package"
    for spec in specs:
        m = re.fullmatch(r"([\w.-]+)(?:\[([\w,-]+)\])?(.*)", spec)
        assert m and m.group(1) == project["name"], f"pip installs {spec!r}, not {project['name']}"
        for extra in filter(None, (m.group(2) or "").split(",")):
            assert extra in project["optional-dependencies"], f"no extra {extra!r}"


def _serve(words: list[str], env: dict[str, str]) -> None:
    """Start a serving command on a free port, wait until it listens, stop it."""
    port = free_port()
    if "--port" in words:
        words[words.index("--port") + 1] = str(port)
    else:
        words += ["--port", str(port)]
    proc = subprocess.Popen(words, env=env, start_new_session=True)
    try:
        for _ in range(300):  # up to 30 s
            assert proc.poll() is None, f"{shlex.join(words)} exited with {proc.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{shlex.join(words)} did not listen on {port}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def run_sh(block: Block) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for raw in block.body.splitlines():
        line, _, comment = raw.partition(" #")
        line = line.strip()
        # A command that is meant to fail says so: "# 退出码 1".
        wanted = re.search(r"退出码\s*(\d+)", comment)
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        if words[:2] in (["pip", "install"], ["pip", "download"]):
            _pip_install(words)
        elif line.startswith(SERVERS):
            _serve(words, env)
        else:
            done = subprocess.run(line, shell=True, env=env, capture_output=True, text=True, timeout=120)
            code = int(wanted.group(1)) if wanted else 0
            assert done.returncode == code, f"{block.where()}: {line!r} exited {done.returncode}\n{done.stderr}"


def run_page(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for block in blocks(page):
        assert block.lang in KINDS, f"{block.where()}: a ```{block.lang} block is not a kind the tests run"
        if includes(block) or block.lang == "text":
            continue
        if block.lang == "python":
            exec(compile(block.body, block.where(), "exec"), namespace)
        elif block.lang == "pycon":
            test = doctest.DocTestParser().get_doctest(block.body, namespace, block.where(), str(page), block.line)
            result = runner.run(test, clear_globs=False)
            namespace.update(test.globs)  # DocTest copies the namespace: keep what the block defined
            assert result.failed == 0, f"{block.where()}: {result.failed} example(s) failed"
        elif block.lang == "sh":
            run_sh(block)
        elif block.lang == "json":
            json.loads(block.body)


if __name__ == "__main__":
    run_page(Path(sys.argv[1]).resolve())
    print("ok")
