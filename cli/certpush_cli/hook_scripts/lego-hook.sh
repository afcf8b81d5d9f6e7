#!/bin/sh
# lego hook: imports the certificate lego just obtained or renewed into certpush, waits until the push
# policies have pushed it, and fails (so that lego reports it) when a push failed. Safe to run again:
# the same certificate is imported once.
#
# Installed by `certpush hooks install lego [--stack NAME | --home DIR]`, which prints the absolute
# path to give lego (with the absolute path of certpush and its backend written below). By hand:
#
#   lego --domains www.example.com ... run   --run-hook   "$PWD/samples/hooks/lego-hook.sh"
#   lego --domains www.example.com ... renew --renew-hook "$PWD/samples/hooks/lego-hook.sh"
#
# lego sets LEGO_CERT_DOMAIN (the first domain), LEGO_CERT_PATH (certificates/DOMAIN.crt, bundled
# with its issuer) and LEGO_CERT_KEY_PATH; DOMAIN.issuer.crt lies beside them. The certificate id
# is the first domain (www.example.com -> www-example-com, *.example.com -> wildcard-example-com).
# The certpush CLI is $CERTPUSH (default: certpush on PATH); it talks to the stack $CERTPUSH_STACK when
# set, else to the one-machine host's home ($CERTPUSH_HOME). Progress goes to standard output; only a
# failure goes to standard error.
set -eu
# certpush-settings: `certpush hooks install` writes CERTPUSH and the backend here
: "${LEGO_CERT_DOMAIN:?is not set: run this as lego --run-hook or --renew-hook}"
: "${LEGO_CERT_PATH:?is not set: run this as lego --run-hook or --renew-hook}"
: "${LEGO_CERT_KEY_PATH:?is not set: run this as lego --run-hook or --renew-hook}"
echo "certpush hook: importing $LEGO_CERT_DOMAIN from $LEGO_CERT_PATH"
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
if "${CERTPUSH:-certpush}" certificates import \
    --from-dir "$(dirname "$LEGO_CERT_PATH")" --domain "$LEGO_CERT_DOMAIN" --wait 2>"$errors"; then
    cat "$errors" # progress and warnings are not errors
else
    status=$?
    cat "$errors" >&2
    exit "$status"
fi
