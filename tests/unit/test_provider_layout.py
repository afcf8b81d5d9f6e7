"""A new provider touches its own folders, one registry line, the template and tests (issue 21, CONTRIBUTING.md
"Adding a push target"): what else names targets reads the registry or the emulator packages, and no
provider-specific name appears in code outside its provider's folders but for the exceptions listed
below, each with its reason."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

from certpush.providers.huaweicloud.settings import HuaweiCloudSettings
from certpush.providers.registry import PROVIDERS, REGISTRY
from certpush.settings import Settings
from certpush_cli import stack

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


# -- README's table of targets is the registry's ------------------------------------------------------------------
def targets_table() -> str:
    """The table README.md shows, from each target's ``DEFINITION`` (provider, service, description)."""
    rows = [
        (f"`{d.provider}`", f"`{d.service}`", ("global: " if d.regions is None else "") + d.description)
        for d in REGISTRY
    ]
    first, second = max(len("provider"), *(len(r[0]) for r in rows)), max(len("service"), *(len(r[1]) for r in rows))
    lines = [
        f"| {'provider':<{first}} | {'service':<{second}} | where the certificate goes |",
        f"|{'-' * (first + 2)}|{'-' * (second + 2)}|----------------------------|",
        *(f"| {p:<{first}} | {s:<{second}} | {where} |" for p, s, where in rows),
    ]
    return "\n".join(lines) + "\n"


def test_the_readme_lists_every_target_of_the_registry() -> None:
    readme = (ROOT / "README.md").read_text()

    assert targets_table() in readme, f"README.md's table of targets should read:\n{targets_table()}"


# -- the operator's settings a stack's retract reads come from the registry -----------------------------------------
def test_the_operator_settings_are_every_variable_of_every_target(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {
        "RecordsTableName": "records",
        "InventoryTableName": "inventory",
        "PushQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/push",
        "EventBusName": "certpush",
        "HuaweiCloudCredentialsSecretId": "from-the-stack",
    }
    monkeypatch.setattr(stack, "stack_outputs", lambda name: outputs)
    operator = {
        "HUAWEICLOUD_CDN_ENTERPRISE_PROJECT_ID": "ep-1",  # was in the hand-kept list
        "HUAWEICLOUD_TIMEOUT_SECONDS": "7",  # was not: every variable of the settings class is read now
        "AWS_ELB_CONSOLE_TEMPLATE": "https://console.example/{target_id}",
        "HUAWEICLOUD_CREDENTIALS_SECRET_ID": "the-operators",  # the stack's output wins
        "UNRELATED": "x",
    }

    settings = stack.settings_for_stack("certpush", operator)

    huawei = settings.target_settings(HuaweiCloudSettings)
    assert (huawei.cdn_enterprise_project_id, huawei.timeout_seconds) == ("ep-1", 7)
    assert huawei.credentials_secret_id == "from-the-stack"
    assert isinstance(settings, Settings) and settings.records_table == "records"
    assert "AWS_ELB_CONSOLE_TEMPLATE" in stack.operator_settings()
    assert len(stack.operator_settings()) == sum(len(kind.model_fields) for kind in REGISTRY.settings_classes())


# -- provider-specific names stay in their provider's folders ------------------------------------------------------
PLATFORM = "aws"
"""The platform certpush deploys on: its name is everywhere (boto3, the template), so only its push targets'
names (``cloudfront``, ``elbv2``...) count as provider-specific."""

NAMES = {
    "huaweicloud": r"huawei",
    "aws:elb": r"elbv2|aws:elb|aws_elb",
    "aws:cloudfront": r"cloudfront",
}
"""What names each provider (or the platform's target) in code; a provider not listed is named by its own name."""

SCANNED = ("layers", "cli", "dev", "emulators", "functions")
"""Code; the docs, samples, template.yaml and tests may name any target."""

EXCEPTIONS: dict[tuple[str, str], str] = {
    ("layers/certpush/certpush/providers/registry.py", "huaweicloud"): "the one registry line per provider",
    ("layers/certpush/certpush/logic/certificate_rules.py", "huaweicloud"): "the rules every target shares cite "
    "each cloud's documentation page beside the rule",
    ("layers/certpush/certpush/logic/certificate_rules.py", "aws:cloudfront"): "the same",
    ("layers/certpush/certpush/logic/rate_limits.py", "huaweicloud"): "an example in an error message",
    ("cli/certpush_cli/help_texts.py", "huaweicloud"): "the help texts as constants (certpush --help imports no "
    "registry); tests/unit/test_cli_start.py checks they are what the registry says",
    ("cli/certpush_cli/help_texts.py", "aws:elb"): "the same",
    ("cli/certpush_cli/help_texts.py", "aws:cloudfront"): "the same",
    ("cli/certpush_cli/targets.py", "aws:elb"): "an example in an error message",
    ("cli/certpush_cli/host/home.py", "huaweicloud"): "help texts naming the simulators and an example",
    ("dev/certpush_dev/local/fixtures.py", "aws:elb"): "the embedded AWS stack's own fixtures (moto: the platform)",
    ("dev/certpush_dev/local/fixtures.py", "aws:cloudfront"): "the same",
    ("dev/certpush_dev/local/aws_calls.py", "aws:elb"): "the least-privilege check of the AWS deployment's calls",
    ("dev/certpush_dev/local/iam_conditions.py", "aws:elb"): "the same (IAM conditions of template.yaml's grants)",
    ("dev/certpush_dev/local/iam_conditions.py", "aws:cloudfront"): "the same",
    ("dev/certpush_dev/bench/__main__.py", "huaweicloud"): "the bench's scenarios name the targets they measure",
    ("dev/certpush_dev/bench/host.py", "huaweicloud"): "the same",
    ("dev/certpush_dev/bench/cold_start.py", "huaweicloud"): "the same (a first Huawei Cloud message's cost)",
    ("dev/certpush_dev/bench/report.py", "huaweicloud"): "the same (the report names what was measured)",
    ("dev/certpush_dev/bench/mass_renewal.py", "huaweicloud"): "the same",
    ("dev/certpush_dev/bench/operator.py", "huaweicloud"): "the same",
    ("dev/certpush_dev/bench/pipeline.py", "huaweicloud"): "the same",
}


def _name_patterns() -> dict[str, tuple[re.Pattern[str], tuple[str, ...]]]:
    """Each provider's (or platform target's) pattern and the folders that are its own."""
    patterns = {}
    for package in PROVIDERS:
        provider = package.__name__.rsplit(".", 1)[-1]
        keys = [d.name for d in REGISTRY if d.provider == provider] if provider == PLATFORM else [provider]
        for key in keys:
            homes = (f"/providers/{provider}/", f"certpush_emulators/{provider}/")
            patterns[key] = (re.compile(NAMES.get(key, re.escape(key)), re.IGNORECASE), homes)
    return patterns


def _code_tokens(source: str) -> list[str]:
    """Names and string literals, leaving out comments and docstrings, also an attribute's (a string that is a
    statement of its own: prose may name any target)."""
    tree = ast.parse(source)
    docstrings = {
        line
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    return [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type in (tokenize.NAME, tokenize.STRING) and token.start[0] not in docstrings
    ]


def provider_names_outside_their_folders(root: Path = ROOT) -> set[tuple[str, str]]:
    listed = subprocess.run(["git", "ls-files", *SCANNED], cwd=root, capture_output=True, text=True, check=True)
    found = set()
    patterns = _name_patterns()
    for path in (p for p in listed.stdout.split() if p.endswith(".py")):
        tokens = _code_tokens((root / path).read_text())
        for key, (pattern, homes) in patterns.items():
            if not any(home in f"/{path}" for home in homes) and any(pattern.search(t) for t in tokens):
                found.add((path, key))
    return found


def test_no_provider_is_named_in_code_outside_its_folders() -> None:
    found = provider_names_outside_their_folders()

    assert sorted(found - set(EXCEPTIONS)) == []
    assert sorted(set(EXCEPTIONS) - found) == [], "an exception no longer needed: remove it"


def test_a_provider_named_outside_its_folders_is_found(tmp_path: Path) -> None:
    """The scan sees code (a name, a string), not prose (a comment, a docstring)."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "prose.py").write_text(
        '"""Pushes to Huawei Cloud."""\n# and to CloudFront\n'
        'class A:\n    title: str\n    """e.g. ``Huawei Cloud``"""\n'
    )
    (tmp_path / "cli" / "code.py").write_text('TARGET = "huaweicloud:waf"\n')
    (tmp_path / "layers" / "certpush" / "providers" / "huaweicloud").mkdir(parents=True)
    (tmp_path / "layers" / "certpush" / "providers" / "huaweicloud" / "waf.py").write_text('NAME = "huaweicloud"\n')
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)

    assert provider_names_outside_their_folders(tmp_path) == {("cli/code.py", "huaweicloud")}


def test_each_target_settings_output_is_one_of_the_templates_outputs() -> None:
    """What a settings class says the stack outputs (``STACK_OUTPUTS``) is in template.yaml's ``Outputs`` and
    names one of its fields: `certpush --stack` reads the target's setting from it."""
    template = (ROOT / "template.yaml").read_text()
    outputs_section = template[template.index("\nOutputs:\n") :]
    declared = [
        (kind, output, name) for kind in REGISTRY.settings_classes() for output, name in kind.STACK_OUTPUTS.items()
    ]

    assert declared, "the Huawei Cloud settings read their credentials' secret from the stack"
    for kind, output, name in declared:
        assert f"\n  {output}:\n" in outputs_section, output
        assert name in kind.model_fields, (kind, name)
