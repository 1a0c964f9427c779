"""The demo under ASGI: ``uvicorn project.asgi:application`` (or any ASGI server).

Django's own ASGI handler, as sites deploy it. Under ASGI the demo mounts the app's async
endpoint (``customer_sessions.urls_async``, see project/urls.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DEMO_SERVER", "asgi")
application = get_asgi_application()
