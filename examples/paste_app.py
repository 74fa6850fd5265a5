"""A PasteDeploy app factory, served by ``minigun --paste examples/site.ini``.

PasteDeploy calls ``make_app(global_conf, **local_conf)``: ``global_conf`` holds
``[DEFAULT]`` and ``--paste-global KEY=VALUE``; ``local_conf`` the keys of the
``[app:...]`` section. ``tests/integration/test_paste.py`` serves it.
"""


def make_app(global_conf, greeting="Hello", **local_conf):
    who = global_conf.get("who", "paste")
    body = f"{greeting} from {who}\n".encode()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    return app
