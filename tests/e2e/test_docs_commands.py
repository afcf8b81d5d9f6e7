"""Every fenced shell block of README.md, CONTRIBUTING.md and docs/*.md runs as a reader would run
it (issue 21): per document, in order, in one bash, from a scratch copy of the checkout (links to
its files; what the blocks write stays in the scratch directory), with the checkout's .venv/bin
first on PATH, no AWS, Huawei Cloud or certpush variables from this process, and a fresh default
home (``XDG_STATE_HOME`` in the scratch directory) unless the document exports ``CERTPUSH_HOME``.
The embedded stack's ports come from ``CERTPUSH_DEV_AWS_PORT`` / ``CERTPUSH_DEV_HUAWEI_PORT`` (free
ones), as docs/emulators.md says.

Blocks marked ``<!-- docs-test: skip (why) -->`` are reported as skipped with their reason."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_blocks import ROOT, Block, blocks_of, documents, run

pytestmark = pytest.mark.e2e

_DOCUMENTS = documents()
_ALL: list[Block] = [block for path in _DOCUMENTS for block in blocks_of(path)]
_SKIPPED = [block for block in _ALL if block.is_shell and block.skip_reason is not None]
_RUN_DOCUMENTS = sorted({b.document for b in _ALL if b.is_shell and b.skip_reason is None})
_BIN = Path(sys.executable).parent
# the checkout's entries a block may not share with the checkout itself: state it writes
_NOT_LINKED = {".certpush", ".git", ".artifacts", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def _free_ports(count: int) -> list[str]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [str(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _scratch_checkout(tmp_path: Path) -> Path:
    scratch = tmp_path / "checkout"
    scratch.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in _NOT_LINKED:
            (scratch / entry.name).symlink_to(entry)
    return scratch


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CERTPUSH_", "HUAWEICLOUD_"))}
    aws_port, huawei_port = _free_ports(2)
    env.update(
        PATH=f"{_BIN}{os.pathsep}{env['PATH']}",
        XDG_STATE_HOME=str(tmp_path / "state"),
        CERTPUSH_DEV_AWS_PORT=aws_port,
        CERTPUSH_DEV_HUAWEI_PORT=huawei_port,
    )
    return env


def _clean_up(tmp_path: Path, scratch: Path, env: dict[str, str]) -> None:
    """What a failing block may have left running: simulators of any home under tmp_path, and an
    embedded stack started from the scratch checkout."""
    for state in tmp_path.rglob("simulators.json"):
        subprocess.run([_BIN / "certpush", "simulators", "stop", "--home", str(state.parent)],
                       env=env, capture_output=True, timeout=60, check=False)  # fmt: skip
    if (scratch / ".certpush" / "local.json").exists():
        subprocess.run([_BIN / "certpush-dev", "stack", "down"], cwd=scratch, env=env,
                       capture_output=True, timeout=60, check=False)  # fmt: skip


def test_the_docs_hold_shell_blocks_to_run() -> None:
    """The test below has something to run (the parser finds the blocks the README shows), and
    every skip says why."""
    assert "README.md" in _RUN_DOCUMENTS and "docs/emulators.md" in _RUN_DOCUMENTS
    assert all(block.skip_reason for block in _SKIPPED)


@pytest.mark.parametrize("document", _RUN_DOCUMENTS)
def test_every_shell_block_of_the_document_runs(document: str, tmp_path: Path) -> None:
    blocks = [b for b in _ALL if b.document == document]
    scratch = _scratch_checkout(tmp_path)
    env = _environment(tmp_path)
    try:
        outcome = run(blocks, cwd=scratch, env=env, timeout=180)
    finally:
        _clean_up(tmp_path, scratch, env)
    assert outcome.returncode == 0, (
        f"{outcome.failed_block or document}: the block failed (exit {outcome.returncode})\n{outcome.output[-4000:]}"
    )


@pytest.mark.parametrize("block", _SKIPPED, ids=[b.where for b in _SKIPPED])
def test_blocks_marked_not_to_run(block: Block) -> None:
    """Listed in the run's summary (pytest -ra), with the reason the docs give."""
    pytest.skip(f"{block.where}: {block.skip_reason}")
