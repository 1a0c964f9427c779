"""The demo under ASGI: ``uvicorn project.asgi:application``.

Django's handler, keeping each request's thread (and its database connection) for the next
requests (see project/asgi_threads.py). ``ASGI_IDLE_THREADS`` (default 64): how many idle
threads one worker keeps; ``ASGI_IDLE_TIMEOUT`` (default ``CONN_MAX_AGE``'s 60 s): how long
an idle thread and its connection last.
"""

import os

from project.asgi_threads import get_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# Under ASGI the demo mounts customer_sessions.urls_async (see project/urls.py).
os.environ.setdefault("DEMO_SERVER", "asgi")
application = get_application(
    max_idle=int(os.environ.get("ASGI_IDLE_THREADS", "64")),
    idle_timeout=float(os.environ.get("ASGI_IDLE_TIMEOUT", "60")),
)
