"""The builder's per-app push locks live in the core: garbage collection takes them too."""
from core.push_locks import PushLocks

__all__ = ["PushLocks"]
