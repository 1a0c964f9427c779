"""User models the app must work with, used only by the custom-user-model tests.

- ``HandleUser``: signs in with a handle, has no email field, no names, no permissions.
- ``UUIDUser``: Django's usual fields, but a UUID primary key.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models


class HandleUserManager(BaseUserManager["HandleUser"]):
    def create_user(self, handle: str, password: str | None = None) -> HandleUser:
        user = self.model(handle=handle)
        user.set_password(password)
        user.save(using=self._db)
        return user


class HandleUser(AbstractBaseUser):
    handle = models.CharField(max_length=40, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    USERNAME_FIELD = "handle"
    objects = HandleUserManager()


class UUIDUser(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
