"""SnapStart (template parameter SnapStart): the hook the runtime runs in each environment restored
from a snapshot makes anew what restored environments must not share, and the handlers' builders
build once however many threads ask at once."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from snapshot_restore_py import get_after_restore

from certpush.adapters.aws_clients import aws_client, shared_session
from certpush.snapstart import BuiltOnce, after_restore, prime, register_hooks
from tests.unit.conftest import run_handler_code

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_the_after_restore_hook_is_registered_once_with_the_runtime_library() -> None:
    register_hooks()
    register_hooks()

    assert [entry for entry in get_after_restore() if entry[0] is after_restore] == [(after_restore, (), {})]


def test_after_a_restore_the_aws_session_its_clients_and_the_built_objects_are_new(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    made: list[object] = []
    built = BuiltOnce(lambda: made.append(object()) or made[-1])
    session = shared_session()
    client = aws_client("sqs")
    first = built()

    after_restore()

    assert shared_session() is not session
    assert shared_session().get_credentials is not None
    assert aws_client("sqs") is not client
    assert built() is not first and len(made) == 2
    # the parsed service models are kept: a restored environment does not read them again
    assert shared_session()._session.get_component("data_loader") is session._session.get_component("data_loader")


def test_restored_environments_do_not_share_the_random_state() -> None:
    snapshot = random.getstate()  # what every environment restored from one snapshot would start with
    without_hook = random.random()
    random.setstate(snapshot)

    after_restore()

    assert random.random() != without_hook


def test_a_builder_builds_once_when_the_first_invocations_start_together() -> None:
    calls: list[int] = []
    started = threading.Barrier(8)

    def make() -> int:
        calls.append(1)
        return len(calls)

    built = BuiltOnce(make)

    def first_invocation() -> None:
        started.wait()
        built()

    threads = [threading.Thread(target=first_invocation) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert calls == [1]
    built.reset()
    assert built() == 2


def test_a_snapstart_init_builds_the_handlers_objects_before_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    built = BuiltOnce(lambda: made.append(1))

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    prime(built)
    assert made == [] and not built.built

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    prime(built)
    assert made == [1] and built.built


PRIMED_HANDLER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from certpush.snapstart import after_restore
builder = getattr(module, {builder!r})
before = builder()
assert builder.built, "not built during a SnapStart init"
after_restore()
assert not builder.built and builder() is not before
print("ok")
"""


@pytest.mark.parametrize(("function", "builder"), [("validator", "_validator"), ("push_worker", "_consumer"),
                                                   ("notifier", "_consumer")])  # fmt: skip
def test_each_pipeline_handler_is_primed_under_snapstart_and_rebuilt_after_a_restore(
    function: str, builder: str
) -> None:
    code = PRIMED_HANDLER.format(path=str(ROOT / "functions" / function / "app.py"), builder=builder)
    result = run_handler_code(code, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


PRIMED_PUSH_WORKER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from certpush.snapstart import after_restore
snapshotted = module._consumer()._worker.targets
after_restore()
restored = module._consumer()._worker.targets
print(" ".join(f"{{p}}:{{s}}" for p, s in snapshotted.built))
print(" ".join(f"{{p}}:{{s}}" for p, s in restored.built) or "-")
print("certpush.providers.huaweicloud.waf_adapter" in sys.modules)
"""


def test_a_snapstart_init_of_the_push_worker_builds_every_target_and_a_restore_none() -> None:
    """The snapshot holds every target's modules (a first Huawei Cloud push after a restore imports
    nothing), and the restored environment builds its own targets, on demand."""
    code = PRIMED_PUSH_WORKER.format(path=str(ROOT / "functions" / "push_worker" / "app.py"))
    result = run_handler_code(
        code, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start", HUAWEICLOUD_CREDENTIALS_SECRET_ID="certpush/huaweicloud"
    )

    assert result.returncode == 0, result.stderr
    snapshotted, restored, huawei_modules = result.stdout.splitlines()[-3:]
    assert {"aws:elb", "aws:cloudfront", "huaweicloud:waf", "huaweicloud:elb"} <= set(snapshotted.split())
    assert restored == "-"
    assert huawei_modules == "True"
