"""kubernetes-validate with its schema files parsed once per process. It reads and parses them on every call
(the definitions file alone is megabytes of JSON): that made each write to the fake API server, and so the
contract suite on Kubernetes, slow. The schemas are only read, never changed, so sharing them is safe."""
import functools

import kubernetes_validate
from kubernetes_validate import utils

utils.schema_contents = functools.lru_cache(maxsize=None)(utils.schema_contents)

validate = kubernetes_validate.validate
ValidationError = kubernetes_validate.ValidationError
SchemaNotFoundError = kubernetes_validate.SchemaNotFoundError
