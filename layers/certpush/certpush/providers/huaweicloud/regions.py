"""Region -> endpoint tables for the Huawei Cloud services certpush talks to.

Taken from the region lists of the public Python SDK (huaweicloudsdkwaf v1, huaweicloudsdkelb v3,
huaweicloudsdkiam v3, release 3.1.219). Some regions use another domain (``cn-north-9`` WAF uses
``.myhuaweicloud.cn``, ``eu-west-101`` IAM uses ``.myhuaweicloud.eu``): endpoints are never derived
from the region name. Refresh these tables when a region is added.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from string import Formatter
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit

from certpush.errors import ConfigurationError, ServiceUnavailableInRegionError

WAF = "waf"
ELB = "elb"
IAM = "iam"
CDN = "cdn"
Site = Literal["com", "eu"]
"""The account's site: the international one (huaweicloud.com) or the European one (huaweicloud.eu),
whose accounts reach global services at their own addresses."""
# CDN is a global service with one endpoint per site (huaweicloudsdkcdn v2 CdnRegion: "cn-north-1" and
# "ap-southeast-1" name https://cdn.myhuaweicloud.com, "eu-west-101" https://cdn.myhuaweicloud.eu).
CDN_ENDPOINTS: Mapping[str, str] = MappingProxyType(
    {"com": "https://cdn.myhuaweicloud.com", "eu": "https://cdn.myhuaweicloud.eu"}
)
CDN_ENDPOINT = CDN_ENDPOINTS["com"]

_WAF_ENDPOINTS: dict[str, str] = {
    "ae-ad-1": "https://waf.ae-ad-1.myhuaweicloud.com",
    "af-north-1": "https://waf.af-north-1.myhuaweicloud.com",
    "af-south-1": "https://waf.af-south-1.myhuaweicloud.com",
    "ap-southeast-1": "https://waf.ap-southeast-1.myhuaweicloud.com",
    "ap-southeast-2": "https://waf.ap-southeast-2.myhuaweicloud.com",
    "ap-southeast-3": "https://waf.ap-southeast-3.myhuaweicloud.com",
    "ap-southeast-4": "https://waf.ap-southeast-4.myhuaweicloud.com",
    "ap-southeast-5": "https://waf.ap-southeast-5.myhuaweicloud.com",
    "cn-east-2": "https://waf.cn-east-2.myhuaweicloud.com",
    "cn-east-3": "https://waf.cn-east-3.myhuaweicloud.com",
    "cn-east-4": "https://waf.cn-east-4.myhuaweicloud.com",
    "cn-east-5": "https://waf.cn-east-5.myhuaweicloud.com",
    "cn-north-1": "https://waf.cn-north-1.myhuaweicloud.com",
    "cn-north-11": "https://waf.cn-north-11.myhuaweicloud.com",
    "cn-north-12": "https://waf.cn-north-12.myhuaweicloud.com",
    "cn-north-2": "https://waf.cn-north-2.myhuaweicloud.com",
    "cn-north-4": "https://waf.cn-north-4.myhuaweicloud.com",
    "cn-north-9": "https://waf.cn-north-9.myhuaweicloud.cn",
    "cn-south-1": "https://waf.cn-south-1.myhuaweicloud.com",
    "cn-south-2": "https://waf.cn-south-2.myhuaweicloud.com",
    "cn-south-4": "https://waf.cn-south-4.myhuaweicloud.com",
    "cn-southwest-2": "https://waf.cn-southwest-2.myhuaweicloud.com",
    "cn-southwest-3": "https://waf.cn-southwest-3.myhuaweicloud.com",
    "eu-west-0": "https://waf.eu-west-0.myhuaweicloud.com",
    "eu-west-101": "https://waf.eu-west-101.myhuaweicloud.com",
    "la-north-2": "https://waf.la-north-2.myhuaweicloud.com",
    "la-south-2": "https://waf.la-south-2.myhuaweicloud.com",
    "me-east-1": "https://waf.me-east-1.myhuaweicloud.com",
    "my-kualalumpur-1": "https://waf.my-kualalumpur-1.myhuaweicloud.com",
    "na-mexico-1": "https://waf.na-mexico-1.myhuaweicloud.com",
    "ru-moscow-1": "https://waf.ru-moscow-1.myhuaweicloud.com",
    "ru-northwest-2": "https://waf.ru-northwest-2.myhuaweicloud.com",
    "sa-brazil-1": "https://waf.sa-brazil-1.myhuaweicloud.com",
    "tr-west-1": "https://waf.tr-west-1.myhuaweicloud.com",
}
_ELB_ENDPOINTS: dict[str, str] = {
    "ae-ad-1": "https://elb.ae-ad-1.myhuaweicloud.com",
    "af-north-1": "https://elb.af-north-1.myhuaweicloud.com",
    "af-south-1": "https://elb.af-south-1.myhuaweicloud.com",
    "ap-southeast-1": "https://elb.ap-southeast-1.myhuaweicloud.com",
    "ap-southeast-2": "https://elb.ap-southeast-2.myhuaweicloud.com",
    "ap-southeast-3": "https://elb.ap-southeast-3.myhuaweicloud.com",
    "ap-southeast-4": "https://elb.ap-southeast-4.myhuaweicloud.com",
    "ap-southeast-5": "https://elb.ap-southeast-5.myhuaweicloud.com",
    "cn-east-2": "https://elb.cn-east-2.myhuaweicloud.com",
    "cn-east-3": "https://elb.cn-east-3.myhuaweicloud.com",
    "cn-east-4": "https://elb.cn-east-4.myhuaweicloud.com",
    "cn-east-5": "https://elb.cn-east-5.myhuaweicloud.com",
    "cn-north-1": "https://elb.cn-north-1.myhuaweicloud.com",
    "cn-north-12": "https://elb.cn-north-12.myhuaweicloud.com",
    "cn-north-2": "https://elb.cn-north-2.myhuaweicloud.com",
    "cn-north-4": "https://elb.cn-north-4.myhuaweicloud.com",
    "cn-north-9": "https://elb.cn-north-9.myhuaweicloud.com",
    "cn-south-1": "https://elb.cn-south-1.myhuaweicloud.com",
    "cn-south-2": "https://elb.cn-south-2.myhuaweicloud.com",
    "cn-south-4": "https://elb.cn-south-4.myhuaweicloud.com",
    "cn-southwest-2": "https://elb.cn-southwest-2.myhuaweicloud.com",
    "eu-west-0": "https://elb.eu-west-0.myhuaweicloud.com",
    "eu-west-101": "https://elb.eu-west-101.myhuaweicloud.com",
    "la-north-2": "https://elb.la-north-2.myhuaweicloud.com",
    "la-south-2": "https://elb.la-south-2.myhuaweicloud.com",
    "me-east-1": "https://elb.me-east-1.myhuaweicloud.com",
    "my-kualalumpur-1": "https://elb.my-kualalumpur-1.myhuaweicloud.com",
    "na-mexico-1": "https://elb.na-mexico-1.myhuaweicloud.com",
    "ru-moscow-1": "https://elb.ru-moscow-1.myhuaweicloud.com",
    "ru-northwest-2": "https://elb.ru-northwest-2.myhuaweicloud.com",
    "sa-brazil-1": "https://elb.sa-brazil-1.myhuaweicloud.com",
    "tr-west-1": "https://elb.tr-west-1.myhuaweicloud.com",
}
_IAM_ENDPOINTS: dict[str, str] = {
    "ae-ad-1": "https://iam.ae-ad-1.myhuaweicloud.com",
    "af-south-1": "https://iam.af-south-1.myhuaweicloud.com",
    "ap-southeast-1": "https://iam.ap-southeast-1.myhuaweicloud.com",
    "ap-southeast-2": "https://iam.ap-southeast-2.myhuaweicloud.com",
    "ap-southeast-3": "https://iam.ap-southeast-3.myhuaweicloud.com",
    "ap-southeast-4": "https://iam.ap-southeast-4.myhuaweicloud.com",
    "cn-east-2": "https://iam.cn-east-2.myhuaweicloud.com",
    "cn-east-3": "https://iam.cn-east-3.myhuaweicloud.com",
    "cn-east-4": "https://iam.cn-east-4.myhuaweicloud.com",
    "cn-east-5": "https://iam.cn-east-5.myhuaweicloud.com",
    "cn-north-1": "https://iam.cn-north-1.myhuaweicloud.com",
    "cn-north-12": "https://iam.cn-north-12.myhuaweicloud.com",
    "cn-north-2": "https://iam.cn-north-2.myhuaweicloud.com",
    "cn-north-4": "https://iam.cn-north-4.myhuaweicloud.com",
    "cn-north-9": "https://iam.cn-north-9.myhuaweicloud.com",
    "cn-south-1": "https://iam.cn-south-1.myhuaweicloud.com",
    "cn-south-2": "https://iam.cn-south-2.myhuaweicloud.com",
    "cn-southwest-2": "https://iam.cn-southwest-2.myhuaweicloud.com",
    "eu-west-0": "https://iam.eu-west-0.myhuaweicloud.com",
    "eu-west-101": "https://iam.eu-west-101.myhuaweicloud.eu",
    "la-north-2": "https://iam.la-north-2.myhuaweicloud.com",
    "la-south-2": "https://iam.la-south-2.myhuaweicloud.com",
    "me-east-1": "https://iam.me-east-1.myhuaweicloud.com",
    "my-kualalumpur-1": "https://iam.my-kualalumpur-1.myhuaweicloud.com",
    "na-mexico-1": "https://iam.na-mexico-1.myhuaweicloud.com",
    "ru-moscow-1": "https://iam.ru-moscow-1.myhuaweicloud.com",
    "sa-brazil-1": "https://iam.sa-brazil-1.myhuaweicloud.com",
    "tr-west-1": "https://iam.tr-west-1.myhuaweicloud.com",
}

ENDPOINTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        WAF: MappingProxyType(_WAF_ENDPOINTS),
        ELB: MappingProxyType(_ELB_ENDPOINTS),
        IAM: MappingProxyType(_IAM_ENDPOINTS),
    }
)

# IAM answers for every region of the main site at its global endpoint; used for regions missing above.
IAM_GLOBAL_ENDPOINT = "https://iam.myhuaweicloud.com"
# Where an account's own details are asked (the SDK's IamHelper: the global endpoint, or the region's
# for the European site, whose IAM is iam.eu-west-101.myhuaweicloud.eu).
SITE_IAM_ENDPOINTS: Mapping[str, str] = MappingProxyType(
    {"com": IAM_GLOBAL_ENDPOINT, "eu": _IAM_ENDPOINTS["eu-west-101"]}
)

# WAF regions whose UpdateCertificate takes a name only (no content, no key), so a certificate cannot be
# renewed in place there: the push makes a new one and moves the protected domains to it
# (https://support.huaweicloud.com/intl/en-us/eu-west-0-api-waf/UpdateCertificate.html,
# https://support.huaweicloud.com/intl/en-us/my-kualalumpur-1-api-waf/UpdateCertificate.html: request body
# "name" only; the main site's and eu-west-101's take name, content and key).
WAF_UPDATE_NAME_ONLY: frozenset[str] = frozenset({"eu-west-0", "my-kualalumpur-1"})


def waf_updates_content(region: str) -> bool:
    """Whether WAF's UpdateCertificate in ``region`` can replace a certificate's content and key."""
    return region not in WAF_UPDATE_NAME_ONLY


TEMPLATE_FIELDS = frozenset({"service", "region"})


def offered_regions(service: str) -> frozenset[str]:
    """Regions where the service has a public endpoint; empty for an unknown service."""
    table = ENDPOINTS.get(service.lower())
    return frozenset(table) if table is not None else frozenset()


def check_endpoint_template(template: str) -> str:
    """A template may only use ``{service}`` and ``{region}``; raises ConfigurationError otherwise."""
    try:
        fields = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigurationError(f"endpoint template {template!r} is not a format string") from exc
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        raise ConfigurationError(f"endpoint template {template!r} uses unknown fields {sorted(unknown)}")
    if not template.startswith(("http://", "https://")):
        raise ConfigurationError(f"endpoint template {template!r} must start with http:// or https://")
    if template.startswith("http://") and not _loopback(template):
        # a push sends the private key in the request body: in clear text only to this machine (a simulator)
        raise ConfigurationError(
            f"endpoint template {template!r}: http:// is only for 127.0.0.1, localhost or [::1]; use https://"
        )
    return template


def _loopback(template: str) -> bool:
    host = urlsplit(template.format(service="waf", region="cn-north-4")).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_for(service: str, region: str, template: str | None = None, *, site: Site = "com") -> str:
    """Base URL (no trailing ``/``) of ``service`` in ``region``; a global service's follows the
    account's ``site``.

    ``template`` (e.g. ``http://127.0.0.1:8765/{service}/{region}`` for the local simulator) overrides
    the tables. Raises ServiceUnavailableInRegionError when the service has no endpoint in the region.
    """
    service = service.lower()
    if template is not None:
        return check_endpoint_template(template).format(service=service, region=region).rstrip("/")
    if service == CDN:
        return CDN_ENDPOINTS[site]
    table = ENDPOINTS.get(service)
    if table is None:
        raise ServiceUnavailableInRegionError("UNKNOWN_SERVICE", f"no endpoint table for service {service!r}")
    endpoint = table.get(region)
    if endpoint is not None:
        return endpoint
    if service == IAM:
        return IAM_GLOBAL_ENDPOINT
    raise ServiceUnavailableInRegionError("REGION_NOT_OFFERED", f"{service} is not offered in region {region!r}")
