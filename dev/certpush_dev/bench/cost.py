"""What a million pushes cost on AWS, from the measured calls, invocations and durations.

Prices: AWS public price pages, us-east-1, x86, as of the date below (DynamoDB on-demand after its
November 2024 price cut). Free tiers are left out. Write units are estimated per push from the
item design (``certpush.models.items``): the current item is in two indexes and the history item in
one, a transaction writes twice, a changed index key costs a delete and a put in that index."""

from __future__ import annotations

from typing import Any

PRICES_AS_OF = "2026-11-28 (us-east-1 list prices, as published since the Nov 2024 DynamoDB on-demand cut)"
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    "sqs_request": 0.40 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    "secrets_manager_call": 0.05 / 1e4,
    "kms_request": 0.03 / 1e4,
    "eventbridge_event": 1.00 / 1e6,
    "sns_message": 0.50 / 1e6,
}

# write request units of one push, by where they are written (see the module docstring)
WRU_PER_PUSH = {
    "validator: PENDING record (conditional put, 2 indexes)": 3,
    "push worker: claim (1 + 2 index keys changed x2)": 5,
    "push worker: final + history + binding (transaction x2, index keys)": 11,
    "notifier: issuance outcome": 1,
}
RRU_PER_PUSH = {"push worker: version (eventually consistent) + binding (consistent)": 1.5}


def million_pushes(summary: dict[str, Any], memory_mb: dict[str, int], batch_targets: int) -> dict[str, Any]:
    """``summary``: a throughput ``Run.summary()``; ``batch_targets``: targets per issuance."""
    per_push = summary["control_plane_calls_per_push_by_operation"]
    invocations = summary["invocations_per_push"]
    seconds = summary["function_seconds_per_push"]
    worker_invocations = sum(v for k, v in invocations.items() if "PushWorker" in k)
    lines = {
        "Lambda requests": sum(invocations.values()) * PRICES["lambda_request"],
        "Lambda compute": sum(seconds[k] * memory_mb.get(k, 512) / 1024 for k in seconds) * PRICES["lambda_gb_second"],
        # the queue's messages in (SendMessageBatch), and Lambda's ReceiveMessage + DeleteMessageBatch per batch
        "SQS": (
            per_push.get("sqs.SendMessageBatch", 0)
            + per_push.get("sqs.ChangeMessageVisibility", 0)
            + 2 * worker_invocations
        )
        * PRICES["sqs_request"],
        "DynamoDB writes": sum(WRU_PER_PUSH.values()) * PRICES["dynamodb_wru"],
        "DynamoDB reads": sum(RRU_PER_PUSH.values()) * PRICES["dynamodb_rru"],
        "Secrets Manager (+ KMS decrypt)": per_push.get("secretsmanager.GetSecretValue", 0)
        * (PRICES["secrets_manager_call"] + PRICES["kms_request"]),
        # one "Certificate Pushed" per push, one summary and one "Certificate Issued" per issuance
        "EventBridge": (1 + 2 / batch_targets) * PRICES["eventbridge_event"],
        "SNS": (1 + 1 / batch_targets) * PRICES["sns_message"],
    }
    per_million = {k: round(v * 1e6, 2) for k, v in lines.items()}
    return {
        "usd_per_million_pushes": per_million,
        "total_usd": round(sum(per_million.values()), 2),
        "prices": PRICES,
        "prices_as_of": PRICES_AS_OF,
        "dynamodb_units_per_push": {"write": WRU_PER_PUSH, "read": RRU_PER_PUSH},
    }
