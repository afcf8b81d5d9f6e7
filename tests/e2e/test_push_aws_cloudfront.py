"""aws:cloudfront through the CLI: the certificate goes to ACM in us-east-1 and becomes the viewer
certificate of the distribution given with --attach."""

from __future__ import annotations

import boto3
import pytest

from certpush_dev.local.fixtures import create_distribution

pytestmark = pytest.mark.e2e


def _distribution(domain: str) -> str:
    return create_distribution(domain)  # tagged certpush:attach=true: the worker's role needs it


def test_push_to_cloudfront_sets_the_distribution_s_viewer_certificate(cli, imported, certificate_id):
    distribution = _distribution(f"{certificate_id}.example.com")

    cli("push", certificate_id, "--to", "aws:cloudfront=global", "--attach", f"aws:cloudfront={distribution}",
        "--wait", "--timeout", "60")  # fmt: skip

    (record,) = cli("records", certificate_id, "--json").json()
    assert record["status"] == "SUCCEEDED"
    config = boto3.client("cloudfront", region_name="us-east-1").get_distribution_config(Id=distribution)
    assert config["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"] == record["target_id"]
