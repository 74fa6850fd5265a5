"""The application stack: what runs before the arbiter exists.

``minigun`` on a command line becomes :func:`minigun.app.wsgiapp.run`, which builds a
:class:`~minigun.app.wsgiapp.WSGIApplication`. Its parents do the general work:
:class:`~minigun.app.base.Application` reads the config file and the command line,
:class:`~minigun.app.base.BaseApplication` holds the resolved
:class:`~minigun.config.Config` and hands itself to the arbiter.
"""
