"""What to do about a record's reason code: one line for a person, shown beside FAILED,
ATTACH_FAILED and REJECTED records (``certpush records``, ``failed``, ``push --wait``, the dashboard).

The reasons certpush itself gives (REJECTED reasons, and the codes adapters give to errors of any
provider) are here; the codes a cloud sends back (``WAF.00012005``...) are in the provider's package
(its ``HINTS``), and ``certpush.providers.registry.hint_for`` looks in both: the one table."""

from __future__ import annotations

from collections.abc import Mapping

REASON_HINTS: Mapping[str, str] = {
    # the validator's reasons (RejectReason)
    "CERTIFICATE_NOT_FOUND": "import the certificate first: certpush certificates import",
    "NOT_HOSTED": "only HOSTED versions are pushed: certpush certificates set-status ID HOSTED --version N",
    "EXPIRED": "renew the certificate with its ACME client (or import a newer one), then push that version",
    "NOT_YET_VALID": "the certificate's notBefore is in the future: check the clock, or push it once it is valid",
    "KEY_MISMATCH": "the private key is not the certificate's: import the pair again",
    "CHAIN_INVALID": "the chain does not verify the certificate: import it with its issuer's chain (--chain)",
    "TOO_MANY_REGIONS": "push at most 10 regions per service at once: split the push or the policy",
    "UNKNOWN_PROVIDER": "a typo in the event's target: `certpush records forget ID --to ...` clears these records",
    "UNKNOWN_SERVICE": "a typo in the event's target: `certpush records forget ID --to ...` clears these records",
    "REGION_NOT_OFFERED": "the service is not offered there: `certpush records forget ID --to ...` clears these",
    "ALREADY_PUSHED": "nothing to do: that version is in the target (push --force pushes it again)",
    "PUSH_IN_PROGRESS": "nothing to do: another push of that version is under way",
    # the codes adapters give to errors of any provider (certpush.errors, providers/*)
    "SERVICE_UNAVAILABLE": "the account may not use the service there (not enabled, no permission, region not "
    "opted in): check the credentials' permissions in that region",
    "QUOTA_EXCEEDED": "a quota of the target is used up: delete certificates nobody uses (certpush retract "
    "--superseded) or ask the provider for a higher quota, then certpush replay ID",
    "LISTENER_NOT_FOUND": "a listener to attach to is gone: certpush replay ID --drop-attach REF",
    "DISTRIBUTION_NOT_FOUND": "a distribution to attach to is gone: certpush replay ID --drop-attach REF",
    "LISTENER_NOT_TLS": "the listener is not HTTPS/TLS: attach to a TLS listener instead (--drop-attach REF)",
    "CERTIFICATE_IN_USE": "something else uses the certificate: detach it there first",
    "AUTH_FAILED": "the target refused the credentials (or the clock is off): check the AK/SK (certpush credentials "
    "show, or the stack's secret) and the host's clock, then certpush replay ID",
    "STUCK": "the push stopped answering: certpush replay ID pushes it again",
    "TIMEOUT": "the target did not answer in time: certpush replay ID once it answers again",
    "CONNECTION_ERROR": "the target could not be reached: check the network, then certpush replay ID",
    "NETWORK": "the target could not be reached: check the network, then certpush replay ID",
}


def own_hint(provider: str, reason: str | None) -> str | None:
    """certpush's own hint for a reason, whatever the provider (the providers' codes are theirs)."""
    return REASON_HINTS.get(reason) if reason else None
