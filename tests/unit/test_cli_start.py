"""`certpush --help` starts fast because declaring the commands imports no runtime: the help texts are
constants (``certpush_cli.help_texts``) that must keep saying what the registry and the domain say,
and nothing heavy is imported until a command runs. (How fast is measured by `make bench`.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from certpush import __version__
from certpush.models.domain import CERTIFICATE_ID_RULE, CertificateStatus
from certpush_cli import help_texts
from certpush_cli.acme_files import material_from_acme_client
from certpush_cli.commands.certificates import StatusChoice
from certpush_cli.main import VERSION
from certpush_cli.targets import attach_default_help, attach_help, to_help

pytestmark = pytest.mark.unit

HEAVY = ("pydantic", "boto3", "botocore", "rich", "cryptography", "httpx", "aws_lambda_powertools")
LIGHT_RUNTIME = ("certpush", "certpush.log_hygiene")  # the version and the loggers' levels: stdlib only


def test_the_help_texts_say_what_the_registry_and_the_domain_say() -> None:
    assert to_help() == help_texts.TO_HELP
    assert attach_help() == help_texts.ATTACH_HELP
    assert attach_default_help() == help_texts.ATTACH_DEFAULT_HELP
    assert help_texts.CERTIFICATE_ID_RULE == CERTIFICATE_ID_RULE
    assert (
        [s.value for s in StatusChoice] == [s.value for s in CertificateStatus] == list(help_texts.CERTIFICATE_STATUSES)
    )
    assert __version__ == VERSION
    assert material_from_acme_client  # the module that reads ACME folders still imports


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["push", "--help"], ["hooks", "install", "--help"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    probe = (
        "import sys, json\n"
        "from certpush_cli.main import main\n"
        f"sys.argv = ['certpush', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))\n"
        f"heavy += sorted(m for m in sys.modules if m.split('.')[0] == 'certpush' and m not in {LIGHT_RUNTIME!r})\n"
        "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)

    report = json.loads(done.stderr.strip().splitlines()[-1])
    if len(args) > 1:  # a command's help: typer (0.29) builds its parameters' converters with pydantic
        report["heavy"] = [m for m in report["heavy"] if m != "pydantic"]
    assert report == {"code": 0, "heavy": []}, done.stderr
    assert ("certpush 0.1.0" in done.stdout) if args == ["--version"] else ("Usage: certpush" in done.stdout)
