"""What the AWS targets take, each rule beside the page it mirrors (``certificate_rules``).

Both AWS targets put the certificate in ACM first, so both take what ACM's ImportCertificate takes;
CloudFront then serves only some of ACM's key types. The embedded stack's ACM and CloudFront refuse
the same (``certpush_emulators/aws/moto_patches.py``), and ``tests/integration/test_target_rules.py``
runs every rule against both."""

from __future__ import annotations

from certpush.logic.certificate_rules import (
    KeyTypes,
    Measured,
    SignatureAlgorithms,
    SizeLimit,
    Source,
    TargetCertificateRules,
    X509Versions,
)

ACM_PREREQUISITES = Source(
    "ACM User Guide, Prerequisites for importing certificates",
    "https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html",
)
ACM_IMPORT_API = Source(
    "ACM API Reference, ImportCertificate",
    "https://docs.aws.amazon.com/acm/latest/APIReference/API_ImportCertificate.html",
)
CLOUDFRONT_REQUIREMENTS = Source(
    "CloudFront Developer Guide, Requirements for using SSL/TLS certificates with CloudFront",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html",
)

ACM_KEYS = KeyTypes(
    # "ACM supports the following algorithms: RSA 1024/2048/3072/4096, ECDSA 256/384/521 bit"
    {"RSA": frozenset({"1024", "2048", "3072", "4096"}), "EC": frozenset({"P-256", "P-384", "P-521"})},
    ACM_PREREQUISITES,
)
ACM_CERTIFICATE_MAX = 32_768  # ImportCertificate Certificate: 1 to 32,768 bytes (API reference, botocore model)
ACM_PRIVATE_KEY_MAX = 5_120  # "The private key must be no larger than 5 KB (5,120 bytes)" (stricter than the model)

ACM_RULES = TargetCertificateRules(
    (
        ACM_KEYS,
        # "The cryptographic algorithm of an imported certificate must match the algorithm of the signing
        # CA": a CA signs with a key of one of ACM's algorithms, RSA or ECDSA. Not the leaf's own family:
        # Let's Encrypt issued ECDSA certificates under its RSA intermediate for years, and ACM imports
        # those (an ACME test server, pebble, still does it: tests/e2e/acme)
        SignatureAlgorithms(frozenset({"RSA", "EC"}), ACM_IMPORT_API),
        # "A certificate must be an SSL/TLS X.509 version 3 certificate"
        X509Versions(frozenset({3}), ACM_PREREQUISITES),
        SizeLimit(Measured.CERTIFICATE, ACM_CERTIFICATE_MAX, ACM_IMPORT_API),
        SizeLimit(Measured.PRIVATE_KEY, ACM_PRIVATE_KEY_MAX, ACM_PREREQUISITES),
    )
)
"""aws:elb: an Application Load Balancer takes every algorithm ACM does (ACM prerequisites page)."""

CLOUDFRONT_KEYS = KeyTypes(
    # "CloudFront only supports 1024-bit RSA, 2048-bit RSA, 3072-bit RSA, 4096-bit RSA, and Elliptic Prime
    # Curve 256-bit keys" (ACM prerequisites); P-384 / P-521 import into ACM but cannot be associated
    {"RSA": frozenset({"1024", "2048", "3072", "4096"}), "EC": frozenset({"P-256"})},
    CLOUDFRONT_REQUIREMENTS,
)
CLOUDFRONT_RULES = TargetCertificateRules((CLOUDFRONT_KEYS, *ACM_RULES.rules))
"""aws:cloudfront: ACM's rules, its key types narrowed to what CloudFront serves."""
