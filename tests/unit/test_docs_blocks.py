"""The docs' block runner (tests/docs_blocks.py) itself: what it finds, what it refuses, and that a
failing block fails with its document and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docs_blocks import DocsError, parse, run

pytestmark = pytest.mark.unit

DOC = """# A doc

```sh
greeting=hello
```

<!-- docs-test: skip (needs an account (a real one)) -->
```bash
exit 7
```

```text
not run
```

```console
$ echo "$greeting world" > said.txt
hello world
```
"""


def test_blocks_are_found_with_their_line_language_and_skip_reason() -> None:
    blocks = parse(DOC, "doc.md")

    assert [(b.line, b.language, b.skip_reason) for b in blocks] == [
        (3, "sh", None),
        (8, "bash", "needs an account (a real one)"),
        (12, "text", None),
        (16, "console", None),
    ]
    assert blocks[3].commands() == 'echo "$greeting world" > said.txt'


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("```\nls\n```\n", "doc.md:1: a fenced block without a language"),
        ("```sh\nls\n", "doc.md:1: the fenced block is not closed"),
        ("```cobol\nls\n```\n", "doc.md:1: unknown block language"),
        ("<!-- docs-test: skip -->\n```sh\nls\n```\n", "doc.md:2: a docs-test marker must read"),
        ("<!-- docs-test: skip (why) -->\n```text\nls\n```\n", "doc.md:2: a skip marker above a text block"),
    ],
)
def test_a_document_breaking_the_rules_is_refused_with_its_line(text: str, complaint: str) -> None:
    with pytest.raises(DocsError, match=complaint):
        parse(text, "doc.md")


def test_blocks_share_one_shell_and_skipped_blocks_do_not_run(tmp_path: Path) -> None:
    outcome = run(parse(DOC, "doc.md"), cwd=tmp_path, env=os.environ, timeout=30)

    assert outcome.returncode == 0, outcome.output
    assert (tmp_path / "said.txt").read_text() == "hello world\n"


def test_a_failing_block_is_named_by_document_and_line(tmp_path: Path) -> None:
    text = "```sh\ntrue\n```\n\n```sh\ntrue\nfalse\necho not reached\n```\n\n```sh\necho nor this\n```\n"

    outcome = run(parse(text, "docs/x.md"), cwd=tmp_path, env=os.environ, timeout=30)

    assert outcome.returncode == 1
    assert outcome.failed_block == "docs/x.md:5"
    assert "[docs-test] failed: docs/x.md:5" in outcome.output
    assert "not reached" not in outcome.output and "nor this" not in outcome.output
