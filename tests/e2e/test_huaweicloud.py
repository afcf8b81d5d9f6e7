"""Huawei Cloud WAF and ELB through the whole pipeline, against the simulator."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from certpush.models.domain import CertificateMaterial, CertificateVersion, PushRequest
from certpush_cli.sample_certificates import make_certificate
from tests.e2e.conftest import write_material

pytestmark = pytest.mark.e2e

WAF_REGIONS = ["cn-north-4", "ap-southeast-1", "la-south-2"]
ELB_REGIONS = ["cn-north-4", "ap-southeast-3", "af-south-1"]


def _name(certificate_id: str, version: int = 1) -> str:
    stub = CertificateVersion.model_construct(certificate_id=certificate_id, version=version)
    request = PushRequest.model_construct(certificate=stub, material=CertificateMaterial.model_construct())
    return request.deterministic_name


def _stored(stack, service: str, region: str, name: str) -> list[dict]:
    certificates = stack.emulators["huaweicloud"].state()[service].get(region, {}).get("certificates", [])
    return [c for c in certificates if c["name"] == name]


def test_waf_and_elb_with_hosts_and_listeners(cli, stack, imported, certificate_id):
    host = stack.emulators["huaweicloud"].add_waf_host("cn-north-4", f"{certificate_id}.example.com")
    listener = stack.emulators["huaweicloud"].add_elb_listener("ap-southeast-3")

    cli("push", certificate_id, "--to", "huaweicloud:waf=cn-north-4", "--to", "huaweicloud:elb=ap-southeast-3",
        "--attach", f"huaweicloud:waf=cn-north-4/{host}",
        "--attach-default", f"huaweicloud:elb=ap-southeast-3/{listener}",
        "--wait", "--timeout", "60")  # fmt: skip

    records = {r["service"]: r for r in cli("records", certificate_id, "--json").json()}
    assert {s: r["status"] for s, r in records.items()} == {"waf": "SUCCEEDED", "elb": "SUCCEEDED"}
    assert records["waf"]["console_url"].startswith("https://console.huaweicloud.com/waf/?region=cn-north-4")
    assert records["elb"]["console_url"].startswith("https://console.huaweicloud.com/elb/?region=ap-southeast-3")
    state = stack.emulators["huaweicloud"].state()
    waf_host = next(h for h in state["waf"]["cn-north-4"]["hosts"] if h["id"] == host)
    assert records["waf"]["target_id"] in str(waf_host)
    elb_listener = next(li for li in state["elb"]["ap-southeast-3"]["listeners"] if li["id"] == listener)
    assert records["elb"]["target_id"] in str(elb_listener)


def test_with_30_percent_of_requests_failing_every_push_succeeds_once(cli, stack, imported, certificate_id):
    stack.emulators["huaweicloud"].set_faults(failure_rate=0.3, kinds=("5xx", "throttle", "timeout"), seed=7)
    try:
        cli("push", certificate_id, "--to", f"huaweicloud:waf={','.join(WAF_REGIONS)}",
            "--to", f"huaweicloud:elb={','.join(ELB_REGIONS)}", "--wait", "--timeout", "120")  # fmt: skip
        injected = stack.emulators["huaweicloud"].state()["stats"]
    finally:
        stack.emulators["huaweicloud"].clear_faults()

    records = cli("records", certificate_id, "--json").json()
    assert len(records) == len(WAF_REGIONS) + len(ELB_REGIONS)
    assert {r["status"] for r in records} == {"SUCCEEDED"}
    assert max(r["attempts"] for r in records) > 1, "no fault hit a push: the test proved nothing"
    assert any("fault" in key and count for key, count in injected.items()), injected
    name = _name(certificate_id)
    for record in records:
        stored = _stored(stack, record["service"], record["region"], name)
        assert [c["id"] for c in stored] == [record["target_id"]], (record["service"], record["region"], stored)


def test_a_region_where_the_service_is_not_purchased_fails_clearly_and_replays(cli, stack, imported, certificate_id):
    stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=False)
    try:
        cli("push", certificate_id, "--to", "huaweicloud:waf=ap-southeast-2,cn-north-4", "--wait", "--timeout", "60",
            expect=1)  # fmt: skip
        records = {r["region"]: r for r in cli("records", certificate_id, "--json").json()}
        failed = records["ap-southeast-2"]
        assert failed["status"] == "FAILED" and failed["attempts"] == 1  # final at once, no retry loop
        assert failed["reason"] and failed["message"]
        assert records["cn-north-4"]["status"] == "SUCCEEDED"
        listed = cli("failed", "--json").json()
        assert any(r["certificate_id"] == certificate_id and r["region"] == "ap-southeast-2" for r in listed)
    finally:
        stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=True)

    cli("replay", certificate_id, "--wait", "--timeout", "60")

    records = {r["region"]: r for r in cli("records", certificate_id, "--json").json()}
    assert {r["status"] for r in records.values()} == {"SUCCEEDED"}
    assert len(_stored(stack, "waf", "cn-north-4", _name(certificate_id))) == 1


def test_a_renewal_is_served_where_version_1_was(cli, stack, imported, certificate_id, tmp_path):
    """Version 2 pushed where version 1 serves a WAF domain and an ELB SNI listener: the ELB certificate
    is renewed in place (same id; the listener holds one certificate for those domains); WAF refuses to
    change a certificate a domain uses, so version 2 is a new certificate the domain moves to, and
    version 1's stays, used by nothing, as its record says."""
    domain = f"{certificate_id}.example.com"
    host = stack.emulators["huaweicloud"].add_waf_host("cn-north-4", domain)
    listener = stack.emulators["huaweicloud"].add_elb_listener("cn-north-4")
    targets = ["--to", "huaweicloud:waf=cn-north-4", "--to", "huaweicloud:elb=cn-north-4",
               "--attach", f"huaweicloud:waf=cn-north-4/{host}",
               "--attach", f"huaweicloud:elb=cn-north-4/{listener}"]  # fmt: skip
    cli("push", certificate_id, *targets, "--wait", "--timeout", "60")
    first = {r["service"]: r["target_id"] for r in cli("records", certificate_id, "--json").json()}

    renewal = make_certificate(domain)
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, renewal))
    cli("push", certificate_id, *targets, "--wait", "--timeout", "60")

    second = {r["service"]: r for r in cli("records", certificate_id, "--version", "2", "--json").json()}
    assert {s: r["status"] for s, r in second.items()} == {"waf": "SUCCEEDED", "elb": "SUCCEEDED"}
    assert second["elb"]["target_id"] == first["elb"]
    assert second["waf"]["target_id"] != first["waf"]
    state = stack.emulators["huaweicloud"].state()
    waf = {c["id"]: c for c in state["waf"]["cn-north-4"]["certificates"]}
    assert waf[second["waf"]["target_id"]]["name"] == _name(certificate_id, 2)
    assert [h["id"] for h in waf[second["waf"]["target_id"]]["bind_host"]] == [host]
    assert waf[first["waf"]]["name"] == _name(certificate_id, 1) and waf[first["waf"]]["bind_host"] == []
    [v1_waf] = [r for r in cli("records", certificate_id, "--version", "1", "--json").json() if r["service"] == "waf"]
    assert (v1_waf["status"], v1_waf["target_id"]) == ("SUCCEEDED", first["waf"])  # it is still there
    [elb_listener] = [li for li in state["elb"]["cn-north-4"]["listeners"] if li["id"] == listener]
    assert elb_listener["sni_container_refs"] == [first["elb"]]
    [elb_certificate] = [c for c in state["elb"]["cn-north-4"]["certificates"] if c["id"] == first["elb"]]
    sha1 = x509.load_pem_x509_certificate(renewal.certificate_pem.encode()).fingerprint(hashes.SHA1())
    assert elb_certificate["fingerprint"].endswith(sha1.hex(":").upper())
