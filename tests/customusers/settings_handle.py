"""The suite's settings with a user model that has no email field (see models.HandleUser)."""

from tests.settings import *  # noqa: F403

from .settings_base import isolate

INSTALLED_APPS = [*INSTALLED_APPS, "tests.customusers"]  # noqa: F405
AUTH_USER_MODEL = "customusers.HandleUser"
DATABASES = isolate(DATABASES, "handle")  # noqa: F405
