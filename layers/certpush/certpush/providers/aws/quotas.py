"""The request quotas of the AWS APIs a push calls, per account (``certpush.logic.rate_limits``).

ACM: "Quotas for AWS Certificate Manager", API rate quotas (requests per second, per account and region):
https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html#api-rate-limits - ImportCertificate 1,
DescribeCertificate 10, AddTagsToCertificate 5, ListCertificates 8, DeleteCertificate 10. Checked on
2026-12-05 against the page's source (acm-limits.md, "Requests-per-second quota for each ACM API
operation", the edition that lists the ACME endpoint APIs); an account's own values may differ: see them
in Service Quotas and override with ``RATE_LIMITS``. Where AWS documents no figure
(tag:GetResources, ELBv2, CloudFront control plane: "throttled per account", no number) a conservative one
is chosen and marked so."""

from __future__ import annotations

from collections.abc import Mapping

from certpush.logic.rate_limits import Quota

ACM_PAGE = "https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html#api-rate-limits"
CONSERVATIVE = "conservative choice: AWS documents no figure for this API"

ACM_QUOTAS: Mapping[str, Quota] = {
    "aws:acm:ImportCertificate": Quota(1, 1.0, "region", ACM_PAGE),
    "aws:acm:DescribeCertificate": Quota(10, 1.0, "region", ACM_PAGE),
    "aws:acm:AddTagsToCertificate": Quota(5, 1.0, "region", ACM_PAGE),
    "aws:acm:ListCertificates": Quota(8, 1.0, "region", ACM_PAGE),
    "aws:acm:DeleteCertificate": Quota(10, 1.0, "region", ACM_PAGE),
    "aws:acm": Quota(5, 1.0, "region", f"{CONSERVATIVE} (ACM's other APIs)"),
    "aws:resourcegroupstaggingapi": Quota(5, 1.0, "region", CONSERVATIVE),
}
ELB_QUOTAS: Mapping[str, Quota] = {**ACM_QUOTAS, "aws:elbv2": Quota(10, 1.0, "region", CONSERVATIVE)}
CLOUDFRONT_QUOTAS: Mapping[str, Quota] = {**ACM_QUOTAS, "aws:cloudfront": Quota(2, 1.0, "global", CONSERVATIVE)}
