#!/bin/sh
# certbot deploy hook: imports the lineage certbot just issued or renewed into certpush, waits until
# the push policies have pushed it, and fails (so that certbot reports it) when a push failed. Safe to
# run again: the same certificate is imported once.
#
# Installed by `certpush hooks install certbot [--stack NAME | --home DIR]` into certbot's
# renewal-hooks/deploy/ folder, which `certbot renew` runs from anywhere (cron, a systemd timer), with
# the absolute path of certpush and its backend written below. By hand:
#
#   certbot certonly -d www.example.com --deploy-hook "$PWD/samples/hooks/certbot-deploy-hook.sh"
#
# (an absolute path: certbot keeps it in the renewal configuration and runs it from /). certbot sets
# RENEWED_LINEAGE (live/NAME: cert.pem, chain.pem, privkey.pem) and RENEWED_DOMAINS. The certificate id
# is the lineage name (www.example.com -> www-example-com). The certpush CLI is $CERTPUSH (default:
# certpush on PATH); it talks to the stack $CERTPUSH_STACK when set, else to the one-machine host's home
# ($CERTPUSH_HOME). Progress goes to standard output; only a failure goes to standard error.
set -eu
# certpush-settings: `certpush hooks install` writes CERTPUSH and the backend here
: "${RENEWED_LINEAGE:?is not set: run this as certbot --deploy-hook, or from certbot's renewal-hooks/deploy}"
echo "certpush hook: importing ${RENEWED_DOMAINS:-} from $RENEWED_LINEAGE"
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
if "${CERTPUSH:-certpush}" certificates import --from-certbot "$RENEWED_LINEAGE" --wait 2>"$errors"; then
    cat "$errors" # progress and warnings: certbot flags anything on standard error as "error output"
else
    status=$?
    cat "$errors" >&2
    exit "$status"
fi
