"""Settings every tier shares."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# No per-example deadline: a shared 2-core machine makes timings noisy, and speed goals live in
# `make bench`. CI (CI=true) runs the same examples every time, so that a submission is judged on
# what was run before it; `HYPOTHESIS_PROFILE=explore` searches afresh.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, database=None)
settings.register_profile("explore", parent=settings.get_profile("dev"), max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
