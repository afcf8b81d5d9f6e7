"""The Huawei Cloud simulator: IAM, WAF, ELB (v3) and CDN over HTTP, signed as the cloud signs."""
