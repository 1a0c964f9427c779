"""The suite's settings with a user model whose primary key is a UUID (see models.UUIDUser)."""

from tests.settings import *  # noqa: F403

from .settings_base import isolate

INSTALLED_APPS = [*INSTALLED_APPS, "tests.customusers"]  # noqa: F405
AUTH_USER_MODEL = "customusers.UUIDUser"
DATABASES = isolate(DATABASES, "uuid")  # noqa: F405
