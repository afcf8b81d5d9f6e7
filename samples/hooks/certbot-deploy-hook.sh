#!/bin/sh
# certbot deploy hook: imports the lineage certbot just issued or renewed into certpush, whose
# push policies then push it. Safe to run again: the same certificate is imported once.
#
#   certbot certonly -d www.example.com --deploy-hook /path/to/certbot-deploy-hook.sh
#   certbot renew                          # runs it after each renewal (saved in the renewal conf)
#
# certbot sets RENEWED_LINEAGE (live/NAME: cert.pem, chain.pem, privkey.pem) and RENEWED_DOMAINS.
# The certificate id is the lineage name (www.example.com -> www-example-com). The certpush CLI is
# $CERTPUSH (default: certpush on PATH). It talks to the stack $CERTPUSH_STACK (with the AWS
# credentials of this environment) when that is set, else to the one-machine host's home
# ($CERTPUSH_HOME): there, with no certpush serve running, the import pushes by itself before it returns.
set -eu
: "${RENEWED_LINEAGE:?is not set: run this as certbot --deploy-hook}"
echo "certpush hook: importing ${RENEWED_DOMAINS:-} from $RENEWED_LINEAGE" >&2
exec "${CERTPUSH:-certpush}" certificates import --from-certbot "$RENEWED_LINEAGE"
