#!/bin/sh
# dehydrated hook: on deploy_cert, imports the new certificate into certpush, waits until the push
# policies have pushed it, and fails (so that dehydrated reports it) when a push failed. Every other
# hook call (challenges, startup, exit, unknown ones) is left alone. Safe to run again: the same
# certificate is imported once.
#
# Installed by `certpush hooks install dehydrated [--stack NAME | --home DIR]`, which prints the two
# lines for dehydrated's config (with the absolute path of certpush and its backend written below).
# By hand, in dehydrated's config:
#
#   HOOK="/absolute/path/to/samples/hooks/dehydrated-hook.sh"
#   HOOK_CHAIN=no   # one deploy_cert call per certificate, with its own arguments
#
# deploy_cert DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE TIMESTAMP, with the files in
# certs/NAME/ (NAME: the domain, or the alias in domains.txt). The certificate id is NAME
# (www.example.com -> www-example-com). The certpush CLI is $CERTPUSH (default: certpush on PATH); it
# talks to the stack $CERTPUSH_STACK when set, else to the one-machine host's home ($CERTPUSH_HOME).
# Progress goes to standard output; only a failure goes to standard error.
set -eu
# certpush-settings: `certpush hooks install` writes CERTPUSH and the backend here
case "${1:-}" in
    deploy_cert)
        : "${4:?deploy_cert needs DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE}"
        echo "certpush hook: importing $2 from $(dirname "$4")"
        errors=$(mktemp)
        trap 'rm -f "$errors"' EXIT
        if "${CERTPUSH:-certpush}" certificates import --from-dir "$(dirname "$4")" --wait 2>"$errors"; then
            cat "$errors" # progress and warnings are not errors
        else
            status=$?
            cat "$errors" >&2
            exit "$status"
        fi
        ;;
esac
