"""The fenced shell blocks of the docs (README.md, CONTRIBUTING.md, docs/*.md), found and run.

Rules the docs follow (CONTRIBUTING.md, "Test tiers"):
- every fenced block names its language; ``sh``, ``bash``, ``shell`` and ``console`` blocks are
  shell and are run, in order, one bash script per document (so a variable or a background job of
  one block is there for the next, as in the reader's terminal); ``console`` blocks run their
  ``$ `` lines only;
- a shell block that needs a cloud account or a long time carries, on the line just above its fence,
  ``<!-- docs-test: skip (the reason) -->``; it is listed, never run.

A failing block fails with its document and line: the script announces each block on stderr before
running it, and an ERR trap names it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console"})
OTHER_LANGUAGES = frozenset({"text", "toml", "json", "yaml", "python", "mermaid", "ini", "http"})
_FENCE = re.compile(r"^(\s*)```(.*)$")
_SKIP = re.compile(r"^<!--\s*docs-test:\s*skip\s*\((?P<reason>.*)\)\s*-->$")
_MARKER = "[docs-test] block "


@dataclass(frozen=True)
class Block:
    document: str  # relative to the checkout
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_LANGUAGES

    def commands(self) -> str:
        if self.language != "console":
            return self.code
        return "\n".join(line[2:] for line in self.code.splitlines() if line.startswith("$ "))


class DocsError(ValueError):
    """A document breaks the rules above (a fence without a language, an unclosed fence, a skip
    marker without a reason or not above a shell block)."""


def documents(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").glob("*.md"))]


def parse(text: str, document: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, language = match.group(1), match.group(2).strip()
        start = index
        if not language:
            raise DocsError(f"{document}:{start + 1}: a fenced block without a language; say sh, text, toml...")
        if language not in SHELL_LANGUAGES | OTHER_LANGUAGES:
            raise DocsError(f"{document}:{start + 1}: unknown block language {language!r}")
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index].removeprefix(indent))
            index += 1
        if index == len(lines):
            raise DocsError(f"{document}:{start + 1}: the fenced block is not closed")
        index += 1
        previous = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        skip = _SKIP.match(previous.strip())
        reason = skip.group("reason").strip() if skip else None
        if previous.strip().startswith("<!-- docs-test") and not reason:
            raise DocsError(f"{document}:{start + 1}: a docs-test marker must read <!-- docs-test: skip (why) -->")
        if reason and language not in SHELL_LANGUAGES:
            raise DocsError(f"{document}:{start + 1}: a skip marker above a {language} block (only shell runs)")
        blocks.append(Block(document, start + 1, language, "\n".join(body), reason))
    return blocks


def blocks_of(path: Path, root: Path = ROOT) -> list[Block]:
    return parse(path.read_text(encoding="utf-8"), str(path.relative_to(root)))


def script(blocks: Iterable[Block]) -> str:
    """One bash script running the blocks in order, each announced on stderr."""
    parts = [
        "set -euo pipefail",
        "trap 'echo \"[docs-test] failed: $__docs_block (exit $?)\" >&2' ERR",
    ]
    for block in blocks:
        if block.skip_reason is not None or not block.is_shell:
            continue
        parts.append(f"__docs_block={block.where}")
        parts.append(f"echo '{_MARKER}{block.where}' >&2")
        parts.append(block.commands())
    return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    failed_block: str | None


def run(blocks: list[Block], cwd: Path, env: Mapping[str, str], timeout: float) -> Outcome:
    """Runs the document's shell blocks in one bash process of its own session; whatever it left
    running in that session (a background job) is ended afterwards."""
    process = subprocess.Popen(
        ["bash", "-c", script(blocks)],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        returncode = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output += f"\n[docs-test] gave up after {timeout:.0f}s"
        returncode = -1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    announced = [line.removeprefix(_MARKER) for line in output.splitlines() if line.startswith(_MARKER)]
    failed = announced[-1] if returncode != 0 and announced else None
    return Outcome(returncode, output, failed)
