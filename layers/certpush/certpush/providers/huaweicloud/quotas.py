"""The request quotas (flow control) of the Huawei Cloud APIs a push calls (``certpush.logic.rate_limits``).

Huawei Cloud's API gateway limits "the maximum number of calls made to a single API within a specified time
window" per user and source IP (the "Request Throttling" pages of the API references, e.g.
https://support.huaweicloud.com/intl/en-us/api-oce/fci_00002.html) and answers 429 ``APIGW.0308`` over it.
CDN documents 200 calls a minute for its APIs (the team's reference page on Huawei Cloud).
WAF, dedicated ELB and IAM publish no figure for the APIs certpush calls: a conservative 10 calls a second
per service and region is chosen (one budget for all of a service's APIs, stricter than per API)."""

from __future__ import annotations

from collections.abc import Mapping

from certpush.logic.rate_limits import Quota
from certpush.providers.huaweicloud.regions import CDN, ELB, IAM, WAF

CONSERVATIVE = "conservative choice: the API reference documents no figure"
CDN_PAGE = "CDN API reference (https://support.huaweicloud.com/api-cdn/): 200 calls a minute"

IAM_QUOTA = Quota(10, 1.0, "global", f"{CONSERVATIVE} (IAM is one service for the account)")
QUOTAS: Mapping[str, Mapping[str, Quota]] = {
    WAF: {f"huaweicloud:{WAF}": Quota(10, 1.0, "region", CONSERVATIVE), f"huaweicloud:{IAM}": IAM_QUOTA},
    ELB: {f"huaweicloud:{ELB}": Quota(10, 1.0, "region", CONSERVATIVE), f"huaweicloud:{IAM}": IAM_QUOTA},
    CDN: {f"huaweicloud:{CDN}": Quota(200, 60.0, "global", CDN_PAGE), f"huaweicloud:{IAM}": IAM_QUOTA},
}
