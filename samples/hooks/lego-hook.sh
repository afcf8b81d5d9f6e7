#!/bin/sh
# lego hook: imports the certificate lego just obtained or renewed into certpush, whose push
# policies then push it. Safe to run again: the same certificate is imported once.
#
#   lego --domains www.example.com ... run   --run-hook   /path/to/lego-hook.sh
#   lego --domains www.example.com ... renew --renew-hook /path/to/lego-hook.sh
#
# lego sets LEGO_CERT_DOMAIN (the first domain), LEGO_CERT_PATH (certificates/DOMAIN.crt, bundled
# with its issuer) and LEGO_CERT_KEY_PATH; DOMAIN.issuer.crt lies beside them. The certificate id
# is the first domain (www.example.com -> www-example-com, *.example.com -> wildcard-example-com).
# The certpush CLI is $CERTPUSH (default: certpush on PATH).
set -eu
: "${LEGO_CERT_DOMAIN:?is not set: run this as lego --run-hook or --renew-hook}"
: "${LEGO_CERT_PATH:?is not set: run this as lego --run-hook or --renew-hook}"
: "${LEGO_CERT_KEY_PATH:?is not set: run this as lego --run-hook or --renew-hook}"
echo "certpush hook: importing $LEGO_CERT_DOMAIN from $LEGO_CERT_PATH" >&2
exec "${CERTPUSH:-certpush}" certificates import \
    --from-dir "$(dirname "$LEGO_CERT_PATH")" --domain "$LEGO_CERT_DOMAIN"
