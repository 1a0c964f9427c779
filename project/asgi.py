import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# Under ASGI the demo mounts customer_sessions.urls_async (see project/urls.py).
os.environ.setdefault("DEMO_SERVER", "asgi")
application = get_asgi_application()
