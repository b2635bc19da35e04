"""The schemathesis loop both API fuzz tests run: positive cases seeded with real tokens and
ids, then negative cases, which must also be refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection


def fuzz_both_modes(
    schema: Any,
    checks: list[Any],
    seed: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]],
    exercise: Callable[[Any, list[Any]], None],
    examples: int,
) -> None:
    """``examples`` cases of each mode through ``exercise(case, checks)``."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = schema.as_strategy(mode)
        mode_checks = list(checks)
        if mode is GenerationMode.POSITIVE:
            strategy = seed(strategy)
        else:
            mode_checks.append(negative_data_rejection)
        _fuzzer(strategy, mode_checks, exercise, examples)()


def _fuzzer(
    strategy: st.SearchStrategy[Any],
    checks: list[Any],
    exercise: Callable[[Any, list[Any]], None],
    examples: int,
) -> Callable[[], None]:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        exercise(case, checks)

    return fuzz
