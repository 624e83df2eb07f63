"""The Kubernetes backend of the scheduler port (`PIER_SCHEDULER=kubernetes`).

Not run against a live cluster here: it is tested by validating every object it sends against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict, Kubernetes 1.30 and 1.37) and by the contract
suite (tests/contract/) talking real HTTP through the official client to a fake API server
(tests/support/fake_kube/). See README.md, "The Kubernetes scheduler".
"""
from workers.scheduler.kubernetes.scheduler import KubernetesScheduler

__all__ = ["KubernetesScheduler"]
