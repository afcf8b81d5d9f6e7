"""What the Huawei Cloud targets take, each rule beside the page it mirrors (``certificate_rules``).

Keys: the certificate manager's push page has WAF, ELB and CDN take private keys as PKCS#1 or SEC1
(PEM labels ``RSA PRIVATE KEY`` / ``EC PRIVATE KEY``): RSA or EC, which are the
only algorithms those forms can hold; Ed25519, Ed448 and DSA keys have neither form. No service
documents a size or curve limit, nor an X.509 version, so none is assumed. The simulator refuses the
same (``certpush_emulators/huaweicloud/simulator.py``), and ``tests/integration/test_target_rules.py``
runs every rule against both."""

from __future__ import annotations

from certpush.logic.certificate_rules import KeyTypes, Measured, SizeLimit, Source, TargetCertificateRules

CCM_PUSH = Source(
    "Huawei Cloud CCM User Guide, Pushing an SSL Certificate to Other Cloud Services (PKCS#1 / SEC1 keys)",
    "https://support.huaweicloud.com/intl/en-us/usermanual-ccm/ccm_01_0141.html",
)
ELB_CREATE_CERTIFICATE = Source(
    "Huawei Cloud ELB API Reference (v3), Creating a Certificate",
    "https://support.huaweicloud.com/intl/en-us/api-elb/CreateCertificate.html",
)

KEYS = KeyTypes({"RSA": None, "EC": None}, CCM_PUSH)
ELB_CERTIFICATE_MAX = 65_536  # "certificate": PEM, "a maximum of 65,536 characters" (the SDK docstring says 20,000)
ELB_PRIVATE_KEY_MAX = 8_192  # "private_key": "up to 8,192 PEM encoded characters"

WAF_RULES = TargetCertificateRules((KEYS,))
CDN_RULES = TargetCertificateRules((KEYS,))
ELB_RULES = TargetCertificateRules(
    (
        KEYS,
        # the "certificate" field holds the certificate and its chain (up to 11 levels)
        SizeLimit(Measured.CERTIFICATE_WITH_CHAIN, ELB_CERTIFICATE_MAX, ELB_CREATE_CERTIFICATE),
        SizeLimit(Measured.PRIVATE_KEY, ELB_PRIVATE_KEY_MAX, ELB_CREATE_CERTIFICATE),
    )
)
