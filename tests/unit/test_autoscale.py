"""The autoscaler's decision (HPA semantics) and the CPU figures it decides from."""
import pytest

from workers.runners.hpa import decide, recommend
from workers.scheduler.docker.containers import cores_used
from workers.scheduler.spec import ReleaseSpec, utilization

RULE = {"min": 1, "max": 5, "cpu_percent": 50}


def test_scales_up_at_once_to_the_ceiling_of_the_ratio():
    decision = decide(2, 140, RULE, window=[])
    assert decision.desired == 5  # ceil(2 x 140 / 50) = 6, held at max 5
    assert decision.recommendation == 6
    assert decision.reason == "CPU 140 % of 50 %"
    assert decide(2, 70, RULE, window=[1, 1]).desired == 3  # ceil(2.8): a low window never holds an increase


def test_within_the_tolerance_nothing_changes():
    assert recommend(4, 54, 50) == 4  # ratio 1.08
    assert recommend(4, 46, 50) == 4  # ratio 0.92
    assert recommend(4, 56, 50) == 5  # ratio 1.12: ceil(4.48)
    assert recommend(4, 44, 50) == 4  # ratio 0.88: ceil(3.52)
    assert recommend(4, 40, 50) == 4  # ceil(3.2): still 4
    assert recommend(4, 35, 50) == 3
    assert decide(4, 54, RULE, window=[]).desired == 4


def test_scales_down_only_once_the_window_holds_nothing_higher():
    # load gone: the recommendation is 1, but 3 was recommended within the window
    held = decide(3, 0, RULE, window=[3, 3, 2])
    assert held.desired == 3 and held.recommendation == 0  # remembered before the bounds
    # the highest recommendation still in the window wins: down to 2, not 1
    assert decide(3, 0, RULE, window=[2, 1]).desired == 2
    # the window has passed (its recommendations were forgotten): down to the new recommendation
    assert decide(3, 0, RULE, window=[]).desired == 1
    assert decide(3, 0, RULE, window=[1, 1]).desired == 1


def test_min_and_max_are_never_crossed():
    for current in range(1, 6):
        for usage in (0, 1, 10, 49, 50, 51, 100, 500, 10_000):
            for window in ([], [0], [1], [7], [100]):
                desired = decide(current, usage, RULE, window).desired
                assert RULE["min"] <= desired <= RULE["max"], (current, usage, window, desired)


def test_a_count_out_of_bounds_is_brought_back_at_once():
    assert decide(0, None, {"min": 2, "max": 4, "cpu_percent": 50}, window=[]).desired == 2
    assert decide(0, None, RULE, window=[]).reason == "below its minimum of 1"
    too_many = decide(9, 0, RULE, window=[9, 9])
    assert too_many.desired == 5 and too_many.reason == "above its maximum of 5"
    assert decide(9, 900, RULE, window=[]).desired == 5


def test_without_a_sample_nothing_changes_and_nothing_is_remembered():
    decision = decide(3, None, RULE, window=[5])
    assert decision.desired == 3 and decision.recommendation is None


def test_cpu_request_is_the_request_else_the_limit_else_none():
    spec = ReleaseSpec(app="a", app_uuid="u", version=2, image="i", cpu={"web": "250m/1", "worker": "500m"})
    assert spec.cpu_request("web") == 0.25
    assert spec.cpu_request("worker") == 0.5
    assert spec.cpu_request("clock") is None
    assert utilization(0.35, 0.25) == pytest.approx(140)
    assert utilization(0.35, None) == pytest.approx(35)  # percent of one core


def stats(used, elapsed, cpus=2, before_system=1_000_000_000):
    return {"cpu_stats": {"cpu_usage": {"total_usage": 5_000 + used}, "system_cpu_usage": before_system + elapsed,
                          "online_cpus": cpus},
            "precpu_stats": {"cpu_usage": {"total_usage": 5_000}, "system_cpu_usage": before_system}}


def test_cores_used_from_docker_stats():
    # the host's two cores ran 2 s of CPU time in all (1 s of wall time); the container took 0.5 s of it
    assert cores_used(stats(500_000_000, 2_000_000_000)) == pytest.approx(0.5)
    assert cores_used(stats(2_000_000_000, 2_000_000_000)) == pytest.approx(2.0)
    assert cores_used(stats(0, 2_000_000_000)) == 0
    just_started = stats(10, 10)
    just_started["precpu_stats"] = {"cpu_usage": {"total_usage": 0}}
    assert cores_used(just_started) is None
