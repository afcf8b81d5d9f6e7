#!/bin/sh
# dehydrated hook (HOOK=/path/to/dehydrated-hook.sh in dehydrated's config, HOOK_CHAIN=no):
# on deploy_cert, imports the new certificate into certpush, whose push policies then push it.
# Every other hook call (challenges, startup, exit, unknown ones) is left alone. Safe to run
# again: the same certificate is imported once.
#
# deploy_cert DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE TIMESTAMP, with the files in
# certs/NAME/ (NAME: the domain, or the alias in domains.txt). The certificate id is NAME
# (www.example.com -> www-example-com). The certpush CLI is $CERTPUSH (default: certpush on PATH).
set -eu
case "${1:-}" in
    deploy_cert)
        : "${4:?deploy_cert needs DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE}"
        echo "certpush hook: importing $2 from $(dirname "$4")" >&2
        exec "${CERTPUSH:-certpush}" certificates import --from-dir "$(dirname "$4")"
        ;;
esac
