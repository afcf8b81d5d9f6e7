"""Certificates a target does not take, through the CLI on the embedded stack: the import stores them
with a warning naming each target that will refuse them, a push ends REJECTED with the rule's code on
exactly those targets, and the others take it (issue 19: Ed25519 everywhere, P-384 / P-521 on
CloudFront, RSA 8192 and X.509 v1 on the AWS targets)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_dev.local.stack import EmbeddedStack
from tests.certificate_shapes import x509_v1
from tests.e2e.conftest import write_material

pytestmark = pytest.mark.e2e

EVERY_TARGET = {
    "aws:elb": "aws:elb=us-east-1",
    "aws:cloudfront": "aws:cloudfront",
    "huaweicloud:waf": "huaweicloud:waf=cn-north-4",
    "huaweicloud:elb": "huaweicloud:elb=cn-north-4",
    "huaweicloud:cdn": "huaweicloud:cdn",
}
AWS = ("aws:elb", "aws:cloudfront")
KEY = "KEY_ALGORITHM_NOT_SUPPORTED"
SIZE = "KEY_SIZE_NOT_SUPPORTED"
VERSION = "CERTIFICATE_VERSION_NOT_SUPPORTED"


def _key(key_type: str) -> Callable[[str], SampleCertificate]:
    return lambda name: make_certificate(name, key_type=key_type)


ALL = tuple(EVERY_TARGET)
CASES: list[tuple[str, Callable[[str], SampleCertificate], tuple[str, ...], dict[str, str]]] = [
    ("ed25519", _key("ed25519"), ALL, dict.fromkeys(ALL, KEY)),
    ("ec-p384", _key("ec:P-384"), ALL, {"aws:cloudfront": SIZE}),
    ("ec-p521", _key("ec:P-521"), ALL, {"aws:cloudfront": SIZE}),
    ("x509-v1", x509_v1, ALL, dict.fromkeys(AWS, VERSION)),
    # RSA 8192 takes seconds to make and to check: pushed only where it is refused (its key is also
    # over ACM's 5 KB: the import warns about both, the push names the first rule broken)
    ("rsa-8192", _key("rsa:8192"), AWS, dict.fromkeys(AWS, SIZE)),
]


@pytest.mark.parametrize(("case", "make", "targets", "refused"), CASES, ids=[case[0] for case in CASES])
def test_what_a_target_does_not_take_is_rejected_there_with_its_code(
    cli, stack: EmbeddedStack, tmp_path: Path, certificate_id: str, case, make, targets, refused
) -> None:
    name = f"{certificate_id}.example.com"
    sample = make(name)
    stack.emulators["huaweicloud"].add_cdn_domain(name)

    imported = cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, sample))
    pushed = cli("push", certificate_id, *(f"--to={EVERY_TARGET[t]}" for t in targets), "--wait", "--timeout", "120",
                 expect=1)  # fmt: skip

    warned: dict[str, list[str]] = {}
    for line in imported.stderr.splitlines():
        if line.startswith("warning: ") and " takes " in line:  # warning: CODE: target takes ...
            code, target = line.split(": ")[1], line.split(": ")[2].split(" takes ")[0]
            warned.setdefault(target, []).append(code)
    assert {target: codes[0] for target, codes in warned.items()} == refused, imported.stderr
    records = {f"{r['provider']}:{r['service']}": r for r in cli("records", certificate_id, "--json").json()}
    assert set(records) == set(targets)
    for target, record in records.items():
        if target in refused:
            assert (record["status"], record["reason"]) == ("REJECTED", refused[target]), record
            assert record["message"].startswith(f"{target} takes "), record
        else:
            assert record["status"] == "SUCCEEDED", record
    assert pushed.stdout.count("REJECTED") == len(refused)
