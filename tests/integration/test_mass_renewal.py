"""A small mass renewal on the one-machine host against the Huawei Cloud simulator enforcing flow control and
moto enforcing ACM's per-region rate quotas (the bench runs the 2,000-push one): every push ends SUCCEEDED,
none FAILED for throttling, the host's limiter paced the calls (each budget had several windows' worth), and
no service in any region took more calls within a window than its limit. How many requests the simulator
still refused is not asserted: the limiter keeps a margin, but two requests sent a window apart may arrive
closer on a busy machine (such a throttle is waited out); the bench reports it, and the time against what
the quotas allow."""

from __future__ import annotations

import pytest

from certpush_dev.bench.mass_renewal import common_regions, run_mass_renewal

pytestmark = pytest.mark.integration

TIGHT = {"waf": (8, 1.0), "elb": (8, 1.0), "iam": (4, 1.0)}


def test_a_mass_renewal_is_paced_under_the_flow_control_and_nothing_fails_for_it() -> None:
    result = run_mass_renewal(10, common_regions(3), limits=TIGHT, timeout=300, aws_regions=["eu-west-1"])

    for phase in (result.first, result.renewal):
        assert dict(phase.statuses) == {"SUCCEEDED": 70}
        assert phase.failed_for_throttling == 0
        # ACM takes one import a second per region (the declared quota moto enforces): ten certificates'
        # imports in one region are more than one window's, so the limiter spread them
        assert phase.calls["aws:acm:ImportCertificate@eu-west-1"] >= 10
    assert result.renewal.calls  # the simulator counted the renewal's calls...
    assert max(result.renewal.calls.values()) > max(calls for calls, _ in TIGHT.values())  # ...more than one window
    assert result.paced_seconds > 0
    assert result.over_limit == {}
    assert all(count <= TIGHT[budget.split("@")[0]][0] for budget, count in result.busiest_window.items()), (
        result.busiest_window
    )
