"""The benchmark: minigun beside gunicorn, same workers, same run (``make bench``)."""
