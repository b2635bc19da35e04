"""The test-only hashing cost of server processes: production's cost unless the suite sets it."""

from __future__ import annotations

from better_skills.server.security import (
    PRODUCTION_HASH_COST,
    TEST_HASH_COST_ENV,
    HashCost,
    hash_cost_from_environment,
)
from tests.support.live_server import CHEAP_HASH_COST
from tests.support.live_server import TEST_HASH_COST_ENV as SUITE_SETS


def test_a_server_hashes_at_the_production_cost_unless_the_suite_says_otherwise() -> None:
    assert hash_cost_from_environment({}) == PRODUCTION_HASH_COST
    assert hash_cost_from_environment({TEST_HASH_COST_ENV: ""}) == PRODUCTION_HASH_COST
    assert HashCost(time_cost=3, memory_kib=64 * 1024, parallelism=4) == PRODUCTION_HASH_COST


def test_the_suite_s_server_processes_hash_at_the_lowest_cost() -> None:
    assert SUITE_SETS == TEST_HASH_COST_ENV
    cost = hash_cost_from_environment({TEST_HASH_COST_ENV: CHEAP_HASH_COST})
    assert cost == HashCost(time_cost=1, memory_kib=1024, parallelism=1)
