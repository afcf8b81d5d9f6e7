"""What to do about Huawei Cloud's error codes (``certpush.logic.hints``). The codes and what they
mean: WAF API Reference, "Error Codes" (WAF.00012001-WAF.00012005); API Gateway's, "Error Codes"
(APIGW.0101, APIGW.0302, APIGW.0308); as ``client.py`` reads them."""

from __future__ import annotations

from collections.abc import Mapping

HINTS: Mapping[str, str] = {
    "WAF.00012001": "the AK/SK was refused: check the credentials (certpush credentials show, or the stack's secret)",
    "WAF.00012002": "the project does not match the region: check HUAWEICLOUD_PROJECT_IDS for that region",
    "WAF.00012003": "the IAM user may not use WAF there: grant it WAF FullAccess (or a custom policy) in that region",
    "WAF.00012004": "the account is frozen: settle it in the Billing Center, then certpush replay ID",
    "WAF.00012005": "WAF is not purchased in that region: buy a WAF edition there (or remove the region from the "
    "policy), then certpush replay ID",
    "APIGW.0101": "the API does not exist there: the service is not offered in that region",
    "APIGW.0302": "the IAM user may not call this API: grant the service's permissions to the AK/SK's user",
    "APIGW.0308": "throttled by Huawei Cloud: lower PushConcurrency, or replay later",
    # certpush's own code for credentials it could not read (client.py), worded for this provider
    "CREDENTIALS_UNAVAILABLE": "no Huawei Cloud credentials could be read: certpush credentials set huaweicloud "
    "(one machine) or the stack's HuaweiCloudCredentials secret",
}
