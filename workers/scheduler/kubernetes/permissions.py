"""What Pier's service account may do on the cluster: exactly the (API group, resource, verbs) the Kubernetes
backend uses, no more. The Helm chart's ClusterRole is checked against this table, and
tests/integration/test_kubernetes_scheduler.py fails when the backend uses a verb that is not listed here, or
when one listed here is never used. Namespaced rules need a ClusterRole: each app has a namespace of its own.
"""

PERMISSIONS = (
    # group, resource, verbs
    ("", "namespaces", ("get", "create", "delete")),  # one per app, labelled; never one Pier did not make
    ("", "nodes", ("list",)),  # tags: a release's nodeSelector must match some node's labels
    ("", "pods", ("get", "list", "watch", "create", "patch", "delete")),  # ps, the watcher, one-offs, restarts
    ("", "pods/log", ("get",)),  # logs, a failed rollout's reason, a one-off's output
    ("", "secrets", ("get", "list", "create", "update", "delete")),  # config and pull credentials per release
    ("", "services", ("get", "list", "create", "update", "delete")),  # one per routable process type
    ("apps", "deployments", ("get", "list", "create", "update", "patch", "delete")),
    ("autoscaling", "horizontalpodautoscalers", ("get", "list", "create", "update", "delete")),
)


def as_set():
    """{(group, resource, verb)}."""
    return {(group, resource, verb) for group, resource, verbs in PERMISSIONS for verb in verbs}
