"""Help texts of the command line, as constants: ``certpush --help`` and every command's declaration
read them without importing the provider registry, pydantic or the runtime (the CLI starts in a
fraction of the time). Each is derived from the registry or the domain, and
``tests/unit/test_cli_start.py`` fails when one no longer says what its source says."""

from __future__ import annotations

TO_HELP = (
    "Target as PROVIDER:SERVICE=REGION[,REGION...] (aws:elb, huaweicloud:waf, huaweicloud:elb), e.g. "
    "aws:elb=us-east-1,eu-west-1. Repeat for several services; at most 10 regions per service. A global service "
    "is named alone: aws:cloudfront, huaweicloud:cdn."
)
ATTACH_HELP = (
    "Attach the pushed certificate: PROVIDER:SERVICE=REF. aws:elb: a listener ARN, added as an SNI certificate "
    "(its region is read from the ARN); aws:cloudfront: a distribution id: its viewer certificate (SNI; "
    "TLSv1.2_2021, or the stricter policy it has); huaweicloud:waf: REGION/HOST_ID, or REGION/premium/HOST_ID for "
    "dedicated mode; huaweicloud:elb: REGION/LISTENER_ID, added as an SNI certificate; huaweicloud:cdn: an "
    "accelerated domain name (default: every accelerated domain the certificate covers). Repeatable."
)
ATTACH_DEFAULT_HELP = (
    "Make it the default certificate instead: PROVIDER:SERVICE=REF. aws:elb: makes it the listener's default "
    "certificate; huaweicloud:elb: makes it the listener's default certificate. Repeatable."
)
CERTIFICATE_ID_RULE = "1 to 128 characters of A-Z a-z 0-9 . _ -, starting with a letter or a digit"
CERTIFICATE_STATUSES = ("HOSTED", "REVOKED", "DELETED")
FROM_DIR_HELP = (
    "Read the files an ACME client wrote: a certbot lineage or dehydrated certificate folder "
    "(cert.pem, chain.pem, privkey.pem) or a lego folder (certificates/DOMAIN.crt, .key, .issuer.crt)."
)
FROM_CERTBOT_HELP = "Read a certbot lineage (live/NAME: cert.pem, chain.pem, privkey.pem), e.g. $RENEWED_LINEAGE."
CREDENTIALS_PROVIDER_HELP = "A provider with credentials of its own, e.g. huaweicloud (credentials show lists them)."
CREDENTIALS_ACCESS_KEY_HELP = (
    "The access key (default: its variable, e.g. HUAWEICLOUD_ACCESS_KEY for huaweicloud, else a prompt)."
)
CREDENTIALS_SECRET_KEY_HELP = (
    "Read the secret key from standard input (else its variable, e.g. HUAWEICLOUD_SECRET_KEY for huaweicloud, "  # noqa: S105
    "or a prompt)."
)
