"""A target's error text is scrubbed of key material before it becomes a record's message (issue 18):
PEM blocks, whole or cut off, and long base64 runs go; codes, ids, ARNs and words stay."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from certpush.errors import PermanentPushError, TransientDependencyError
from certpush.logic.redaction import MAX_TARGET_TEXT, REDACTED, scrub_target_text
from certpush.providers.huaweicloud.client import error_for_response
from certpush_cli.sample_certificates import make_certificate
from tests.key_material import KeyMaterial

pytestmark = pytest.mark.unit

SAMPLE = make_certificate("redaction.example.com", key_type="rsa")
KEY = KeyMaterial(SAMPLE.private_key_pem, SAMPLE.certificate_pem)
KEY_B64 = base64.b64encode(SAMPLE.private_key_pem.encode()).decode()


@pytest.mark.parametrize(
    "echo",
    [
        SAMPLE.private_key_pem,  # the whole block
        SAMPLE.private_key_pem[: len(SAMPLE.private_key_pem) // 2],  # cut off by the target
        SAMPLE.private_key_pem[40:700],  # neither marker, only body lines
        json.dumps({"private_key": SAMPLE.private_key_pem}),  # a JSON body quoted back (\\n escapes)
        f"invalid PrivateKey {KEY_B64[200:600]} in request",  # a blob parameter, base64 again
    ],
    ids=["pem", "truncated-pem", "body-lines", "json-escaped", "base64-blob"],
)
def test_key_material_echoed_by_a_target_is_removed(echo: str) -> None:
    text = f"request refused: {echo} (request id 0f1e2d3c)"
    assert KEY.find(text)  # the echo does hold the key
    scrubbed = scrub_target_text(text, limit=10_000)
    assert KEY.find(scrubbed) == []
    assert REDACTED in scrubbed
    assert scrubbed.startswith("request refused: ")


@pytest.mark.parametrize(
    "text",
    [
        "WAF.00011019: certificate illegal",
        "Listener arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/my-load-balancer/"
        "50dc6c495c0c9188/f2f7dc8efc522ab2 not found",
        "project 0a1b2c3d4e5f60718293a4b5c6d7e8f9 has no WAF: "
        "https://waf.cn-north-4.myhuaweicloud.com/v1/0a1b2c3d4e5f60718293a4b5c6d7e8f9/waf/certificate",
        "The certificate field contains more than one certificate. You can specify only one certificate in this field.",
        "request id 3f1c8f0e-5d27-4c5b-9a4e-0c2b1a9d8e7f",
    ],
)
def test_codes_ids_arns_and_words_are_kept(text: str) -> None:
    assert scrub_target_text(text, limit=10_000) == text


def test_the_text_is_cut_to_its_limit() -> None:
    assert len(scrub_target_text("x " * 1000)) == MAX_TARGET_TEXT
    assert scrub_target_text("x " * 1000).endswith("...")


def test_push_and_dependency_errors_carry_scrubbed_messages() -> None:
    for error in (
        PermanentPushError("CERTIFICATE_REFUSED", f"bad key {SAMPLE.private_key_pem}"),
        TransientDependencyError("InternalError", f"echo {SAMPLE.private_key_pem}"),
    ):
        assert KEY.find(error.message) == []
        assert KEY.find(str(error)) == []


def test_a_huawei_cloud_error_that_echoes_the_key_is_scrubbed() -> None:
    body = {"error_code": "ELB.8902", "error_msg": f"invalid private_key: {SAMPLE.private_key_pem}"}
    response = httpx.Response(400, json=body, headers={"X-Request-Id": "abc123"})
    error = error_for_response(response)
    assert error.code == "ELB.8902"
    assert KEY.find(error.message) == []
    assert error.message.startswith("HTTP 400: invalid private_key: ")
    assert error.message.endswith("(request id abc123)")
