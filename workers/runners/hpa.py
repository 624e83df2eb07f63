"""The autoscaler's decision, as Kubernetes' HorizontalPodAutoscaler makes it, as a pure function.

From the replicas a process type runs, the CPU utilization of its containers (percent of each container's CPU
request, averaged) and its rule ({"min", "max", "cpu_percent"}):

- the recommendation is ceil(current x utilization / target), or the current count when the ratio is within
  TOLERANCE of 1 (no scaling on noise);
- a higher recommendation is followed at once; a lower one only once every recommendation of the last
  down-stabilization window is lower than the current count (the highest of them is followed), so a short lull
  never scales down;
- the result never leaves [min, max], and a count outside them is brought back at once, whatever the CPU says.
"""
import math
from dataclasses import dataclass

TOLERANCE = 0.1  # HPA's --horizontal-pod-autoscaler-tolerance


@dataclass(frozen=True)
class Decision:
    desired: int  # the count to scale to (the current one: nothing to do)
    recommendation: int | None  # this sample's recommendation, to remember for the window; None without a sample
    reason: str  # why, for the app's log


def recommend(current, utilization, target):
    """This sample's count before stabilization and bounds; None when there is nothing to judge by."""
    if utilization is None or current < 1:
        return None
    ratio = utilization / target
    if abs(ratio - 1.0) <= TOLERANCE:
        return current
    return math.ceil(current * ratio)


def decide(current, utilization, rule, window):
    """`window`: the recommendations of earlier samples still inside the down-stabilization window."""
    low, high, target = rule["min"], rule["max"], rule["cpu_percent"]
    if current < low:
        return Decision(low, None, f"below its minimum of {low}")
    if current > high:
        return Decision(high, None, f"above its maximum of {high}")
    recommendation = recommend(current, utilization, target)
    if recommendation is None:
        return Decision(current, None, "no CPU sample")
    usage = f"CPU {utilization:.0f} % of {target} %"
    if recommendation > current:
        return Decision(min(recommendation, high), recommendation, usage)
    highest = max([recommendation, *window])
    if highest < current:
        return Decision(max(highest, low), recommendation, usage)
    return Decision(current, recommendation, usage)
