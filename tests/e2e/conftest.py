"""End-to-end fixtures: the platform as `make run` starts it, driven by the real `pier` CLI, git and curl."""
import pytest

from tests.e2e.platform import Platform
from tests.e2e.users import User


@pytest.fixture(scope="package")
def platform(tmp_path_factory):
    """Package-scoped: gone before the integration tests, whose apps' names it also uses, share the engine."""
    running = Platform(tmp_path_factory.mktemp("e2e"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def ada(platform, tmp_path_factory):
    """The first user: the administrator, with her SSH key added."""
    user = User(platform, tmp_path_factory.mktemp("ada"), "ada")
    user.register()
    user.ok("keys:add", str(user.key) + ".pub", "--name", "ada-laptop")
    return user


@pytest.fixture(scope="package")
def bob(platform, ada, tmp_path_factory):
    """A user the administrator registered, with his SSH key added."""
    user = User(platform, tmp_path_factory.mktemp("bob"), "bob")
    user.register(as_admin=ada)
    user.ok("keys:add", str(user.key) + ".pub", "--name", "bob-laptop")
    return user
