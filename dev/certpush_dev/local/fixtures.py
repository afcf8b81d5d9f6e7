"""Things to push onto, made in the emulator: a load balancer with an HTTPS listener, a CloudFront
distribution. Each carries the tag its owner gives it so that certpush may attach to it (docs/deploying.md,
Security): ``certpush:attach=true`` (``default``: it may also become the listener's default
certificate); the embedded stack refuses an attach without it, as IAM does (iam_conditions.py)."""

from __future__ import annotations

from typing import Any

import boto3

ATTACH_TAG = "certpush:attach"


def _tags(attach: str | None) -> list[dict[str, str]]:
    return [{"Key": ATTACH_TAG, "Value": attach}] if attach else []


def create_https_listener(region: str, name: str = "certpush-demo", attach: str | None = "true") -> str:
    """A VPC with two subnets, an ALB and an HTTPS listener with a placeholder certificate, tagged
    ``certpush:attach=<attach>`` (None: untagged, certpush may not attach to it)."""
    ec2 = boto3.client("ec2", region_name=region)
    elbv2 = boto3.client("elbv2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    balancer = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0]
    group = elbv2.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    placeholder = boto3.client("acm", region_name=region).request_certificate(DomainName=f"{name}.placeholder.invalid")[
        "CertificateArn"
    ]
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": placeholder}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )["Listeners"][0]
    if attach:
        tagging: Any = elbv2  # the stubs' TypedDicts for plain dicts
        tagging.add_tags(ResourceArns=[listener["ListenerArn"]], Tags=_tags(attach))
    return str(listener["ListenerArn"])


def create_distribution(domain: str, attach: str | None = "true", **config: Any) -> str:
    """A CloudFront distribution for ``domain`` (one custom origin), tagged ``certpush:attach=<attach>``."""
    origin = {
        "Id": "origin",
        "DomainName": "origin.example.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }
    distribution_config = {
        "CallerReference": domain,
        "Comment": "certpush",
        "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [domain]},
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",  # Managed-CachingOptimized
        },
        **config,
    }
    cloudfront: Any = boto3.client("cloudfront", region_name="us-east-1")
    response = cloudfront.create_distribution_with_tags(
        DistributionConfigWithTags={"DistributionConfig": distribution_config, "Tags": {"Items": _tags(attach)}}
    )
    return str(response["Distribution"]["Id"])
