"""Which (provider, service) pairs certpush knows and where each is offered.

The validator decides from these tables alone (no network): a region a service does not offer is
rejected before anything is queued."""

from __future__ import annotations

from collections.abc import Mapping

from certpush.adapters.huaweicloud.regions import offered_regions as huaweicloud_offered_regions

# AWS commercial regions in which Elastic Load Balancing and ACM are offered.
AWS_ELB_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1",
        "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2",
        "eu-north-1",
        "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    }
)  # fmt: skip

PROVIDERS: Mapping[str, frozenset[str]] = {
    "aws": frozenset({"elb"}),
    "huaweicloud": frozenset({"waf", "elb"}),
}


def offered_regions(provider: str, service: str) -> frozenset[str]:
    if provider == "aws" and service == "elb":
        return AWS_ELB_REGIONS
    if provider == "huaweicloud" and service in PROVIDERS["huaweicloud"]:
        return huaweicloud_offered_regions(service)
    return frozenset()
