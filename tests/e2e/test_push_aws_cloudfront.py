"""aws:cloudfront through the CLI: the certificate goes to ACM in us-east-1 and becomes the viewer
certificate of the distribution given with --attach."""

from __future__ import annotations

import boto3
import pytest

pytestmark = pytest.mark.e2e


def _distribution(domain: str) -> str:
    response = boto3.client("cloudfront", region_name="us-east-1").create_distribution(
        DistributionConfig={
            "CallerReference": domain,
            "Comment": "certpush e2e",
            "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": [domain]},
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "origin",
                        "DomainName": "origin.example.com",
                        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "origin",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return str(response["Distribution"]["Id"])


def test_push_to_cloudfront_sets_the_distribution_s_viewer_certificate(cli, imported, certificate_id):
    distribution = _distribution(f"{certificate_id}.example.com")

    cli("push", certificate_id, "--to", "aws:cloudfront=global", "--attach", f"aws:cloudfront={distribution}",
        "--wait", "--timeout", "60")  # fmt: skip

    (record,) = cli("records", certificate_id, "--json").json()
    assert record["status"] == "SUCCEEDED"
    config = boto3.client("cloudfront", region_name="us-east-1").get_distribution_config(Id=distribution)
    assert config["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"] == record["target_id"]
