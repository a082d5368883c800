"""
Hypothesis profiles: ``ci`` (today's example counts: ``make test``, CI) and ``dev`` (a fifth: ``make check``).

Chosen by ``HYPOTHESIS_PROFILE`` (default ``ci``). Tests that set their own ``max_examples`` pass it
through :func:`scaled`, so the profile scales them too.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Hypothesis's own default; the ``ci`` profile keeps it.
CI_EXAMPLES = 100
DEV_EXAMPLES = 20

#: No timing in a correctness test: a loaded machine (CI runs several suites at once) made input
#: generation "too slow" or an example miss its deadline, failing tests that were right. Speed is
#: what the benchmarks measure.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=CI_EXAMPLES, **_UNTIMED)
settings.register_profile("dev", max_examples=DEV_EXAMPLES, **_UNTIMED)


def load() -> str:
    """Load the profile ``HYPOTHESIS_PROFILE`` names; return its name."""
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    settings.load_profile(name)
    return name


def scaled(examples: int) -> int:
    """Return a test's own example count under the loaded profile (as is under ``ci``)."""
    return max(10, examples * settings.default.max_examples // CI_EXAMPLES)
