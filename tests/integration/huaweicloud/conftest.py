"""A Huawei Cloud simulator on a loopback port, targets wired to it, and certificates made at run time
(private keys only ever live in memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import SecretStr

from certpush.models.domain import (
    CertificateMaterial,
    CertificateVersion,
    PushRequest,
    TargetOptions,
)
from certpush.providers.huaweicloud.cdn_adapter import HuaweiCdnTarget
from certpush.providers.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator


@pytest.fixture(scope="session")
def simulator() -> Iterator[HuaweiCloudSimulator]:
    with HuaweiCloudSimulator() as sim:
        yield sim


@pytest.fixture
def sim(simulator: HuaweiCloudSimulator) -> HuaweiCloudSimulator:
    simulator.reset()
    return simulator


@pytest.fixture(scope="session")
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0), transport=httpx.HTTPTransport(retries=0)) as client:
        yield client


@pytest.fixture
def credentials(sim: HuaweiCloudSimulator) -> HuaweiCloudCredentials:
    access_key, secret_key = next(iter(sim.credentials.items()))
    return HuaweiCloudCredentials(access_key=access_key, secret_key=SecretStr(secret_key))


@pytest.fixture
def hw_client(
    sim: HuaweiCloudSimulator, http_client: httpx.Client, credentials: HuaweiCloudCredentials
) -> HuaweiCloudClient:
    return HuaweiCloudClient(lambda: credentials, http_client=http_client, endpoint_template=sim.endpoint_template)


@pytest.fixture
def waf(hw_client: HuaweiCloudClient) -> HuaweiWafTarget:
    return HuaweiWafTarget(hw_client)


@pytest.fixture
def elb(hw_client: HuaweiCloudClient) -> HuaweiElbTarget:
    return HuaweiElbTarget(hw_client)


def _self_signed(
    names: tuple[str, ...], not_before: datetime, not_after: datetime
) -> tuple[str, str, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, names[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return certificate.public_bytes(Encoding.PEM).decode(), key_pem, certificate


@pytest.fixture
def make_request() -> Callable[..., PushRequest]:
    def make(
        region: str = "cn-north-4",
        *,
        certificate_id: str = "cert-0001",
        version: int = 1,
        sans: tuple[str, ...] = ("www.example.com", "example.com"),
        expired: bool = False,
        mismatched_key: bool = False,
        attach: tuple[str, ...] = (),
        attach_default: tuple[str, ...] = (),
    ) -> PushRequest:
        now = datetime.now(UTC)
        not_before, not_after = (
            (now - timedelta(days=30), now - timedelta(days=1))
            if expired
            else (
                now - timedelta(hours=1),
                now + timedelta(days=90),
            )
        )
        certificate_pem, key_pem, certificate = _self_signed(sans, not_before, not_after)
        if mismatched_key:
            key_pem = _self_signed(sans, not_before, not_after)[1]
        metadata = CertificateVersion(
            certificate_id=certificate_id,
            version=version,
            common_name=sans[0],
            sans=list(sans),
            fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
            serial_number=format(certificate.serial_number, "x"),
            issuer=certificate.issuer.rfc4514_string(),
            not_before=not_before,
            not_after=not_after,
            key_type="EC-P256",
            secret_id=f"certpush/{certificate_id}/{version}",
            imported_at=now,
        )
        material = CertificateMaterial(certificate_pem=certificate_pem, private_key_pem=SecretStr(key_pem))
        return PushRequest(
            certificate=metadata,
            material=material,
            region=region,
            options=TargetOptions(attach=attach, attach_default=attach_default),
        )

    return make


@pytest.fixture
def cdn(hw_client: HuaweiCloudClient) -> HuaweiCdnTarget:
    return HuaweiCdnTarget(hw_client)
