"""certpush on one machine: the host. The domain (``certpush.logic``) behind a second set of
adapters (SQLite in one home directory, material sealed with AES-GCM), run by ``certpush serve``
and by the commands that drive their own pushes. Nothing here holds a business rule: the validator,
the push worker, the notifier, the sweeper and the expiry warning are the ones Lambda runs."""
