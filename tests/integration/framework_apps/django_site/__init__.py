"""A Django project in three files, for tests/integration/test_frameworks.py.

``django_site.wsgi:application`` is served by minigun: the admin (its login page,
with the admin's own static files), a JSON view and a streamed view.
"""
