"""The WSGI entry point minigun serves: ``minigun django_site.wsgi:application``.

Static files are served by ``StaticFilesHandler``, from each app's ``static/``
folder, so the test needs no ``collectstatic``; a deployment lets nginx serve
``STATIC_ROOT`` instead (book/deploy.md).
"""

import os

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")
application = StaticFilesHandler(get_wsgi_application())
