"""The host database's schema, versioned with ``PRAGMA user_version``: each entry of ``MIGRATIONS``
takes the file from version ``n`` to ``n + 1``, inside the transaction that opens the database.

Tables, and the AWS resource each one stands for:

- ``certificate_versions`` (inventory table: certificate metadata), ``material`` (Secrets Manager:
  AES-GCM ciphertext only), ``policies`` (inventory table), ``credentials`` (the Huawei Cloud AK/SK
  secret, encrypted the same way);
- ``pushes``, ``history``, ``bindings``, ``issuances`` (records table: current state, history,
  bindings with the version they hold and the lease of the push changing them, issuance progress);
  ``history.notified`` is the notifier's outbox mark (the stream);
- ``inbox`` ("Certificate Issued" events on their way to the validator: the bus and its rule);
- ``queue`` (the push queue and, ``dead = 1``, its dead-letter queue);
- ``events``, ``deliveries``, ``delivery_attempts`` (what the notifier emits, and its webhooks);
- ``schedules`` (when the sweeper and the expiry warning last ran: EventBridge's schedules).
"""

from __future__ import annotations

import sqlite3

from certpush.errors import ConfigurationError

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE certificate_versions (
        certificate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,
        PRIMARY KEY (certificate_id, version)
    ) WITHOUT ROWID;
    CREATE TABLE material (
        material_id TEXT PRIMARY KEY,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE policies (name TEXT PRIMARY KEY, policy TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE credentials (
        name TEXT PRIMARY KEY,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE pushes (
        certificate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        provider TEXT NOT NULL,
        service TEXT NOT NULL,
        region TEXT NOT NULL,
        status TEXT NOT NULL,
        push_id TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        lease_token TEXT,
        lease_until TEXT,
        lease_owner TEXT,
        record TEXT NOT NULL,
        PRIMARY KEY (certificate_id, version, provider, service, region)
    );
    CREATE INDEX pushes_by_status ON pushes (status, sort_key);
    CREATE INDEX pushes_by_target ON pushes (provider, service, region, sort_key);
    CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        certificate_id TEXT NOT NULL,
        push_id TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        day TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        provider TEXT NOT NULL,
        service TEXT NOT NULL,
        region TEXT NOT NULL,
        record TEXT NOT NULL,
        notified INTEGER NOT NULL DEFAULT 0,
        UNIQUE (certificate_id, finished_at, push_id)
    );
    CREATE INDEX history_by_certificate ON history (certificate_id, finished_at);
    CREATE INDEX history_by_day ON history (day, sort_key);
    CREATE INDEX history_to_notify ON history (seq) WHERE notified = 0;
    CREATE TABLE bindings (
        certificate_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        service TEXT NOT NULL,
        region TEXT NOT NULL,
        target_id TEXT,
        version INTEGER,
        lease_token TEXT,
        lease_until TEXT,
        lease_owner TEXT,
        updated_at TEXT,
        PRIMARY KEY (certificate_id, provider, service, region)
    ) WITHOUT ROWID;
    CREATE TABLE issuances (
        issuance_id TEXT PRIMARY KEY,
        certificate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        targets TEXT NOT NULL,
        outcomes TEXT NOT NULL DEFAULT '{}',
        summary_sent INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE inbox (
        event_id TEXT PRIMARY KEY,
        issuance_id TEXT,
        detail TEXT NOT NULL,
        received_at REAL NOT NULL,
        visible_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        error TEXT
    ) WITHOUT ROWID;
    CREATE INDEX inbox_due ON inbox (failed, visible_at);

    CREATE TABLE queue (
        message_id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        issuance_id TEXT,
        sent_at REAL NOT NULL,
        visible_at REAL NOT NULL,
        first_received_at REAL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt TEXT,
        receiver TEXT,
        dead INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX queue_due ON queue (dead, visible_at);
    CREATE INDEX queue_by_issuance ON queue (issuance_id, dead, visible_at);

    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        detail_type TEXT NOT NULL,
        detail TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE deliveries (
        delivery_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events (event_id),
        webhook TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        receiver TEXT,
        last_status INTEGER,
        last_error TEXT,
        delivered_at TEXT
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
    CREATE TABLE delivery_attempts (
        attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL REFERENCES deliveries (delivery_id),
        attempted_at TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL
    );

    CREATE TABLE schedules (name TEXT PRIMARY KEY, last_run REAL NOT NULL) WITHOUT ROWID;
    """,
    # 2: the settle wait ("not before") after an ambiguous error, on a push and on its target's binding
    """
    ALTER TABLE pushes ADD COLUMN settle_until TEXT;
    ALTER TABLE bindings ADD COLUMN settle_until TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> int:
    """Brings the open database (inside a write transaction) to ``SCHEMA_VERSION``; returns it."""
    (current,) = connection.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise ConfigurationError(
            f"the host database has schema version {current}, newer than this certpush knows "
            f"({SCHEMA_VERSION}); upgrade certpush"
        )
    for version in range(current, SCHEMA_VERSION):
        for statement in MIGRATIONS[version].split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {version + 1}")
    return SCHEMA_VERSION
