"""The errors that cross module boundaries, and the exit codes that carry them.

minigun's processes talk about failure in two ways. Inside one process, an exception
class says *what* went wrong and its message says it in one line a person can act on.
Between processes, a worker has only its exit status to tell the master why it died;
the codes below are that vocabulary, shared by the arbiter and the workers so that
neither hard-codes a number the other has to guess.
"""

WORKER_BOOT_ERROR = 3
"""A worker could not boot (``init_process`` failed): respawning would fail again."""

APP_LOAD_ERROR = 4
"""The application's module could not be imported (missing, or it raised)."""

APP_NOT_FOUND = 5
"""The module imported, but the ``MODULE:VARIABLE`` object is missing or unusable."""

APP_FACTORY_ERROR = 6
"""The app factory (``module:create_app()``) raised or returned nothing."""

# Codes 4 to 6 all mean "the application failed to load": the master halts with the
# worker's code instead of respawning, and the same code leaves the master when the app
# is loaded there (``preload_app``), so a script can tell the three failures apart.

BOOT_FAILURES = {
    WORKER_BOOT_ERROR: "Worker failed to boot.",
    APP_LOAD_ERROR: "App failed to load.",
    APP_NOT_FOUND: "App failed to load: no such application object.",
    APP_FACTORY_ERROR: "App failed to load: the app factory failed.",
}
"""The codes a respawned worker would only exit with again, and the reason the master
halts with when a worker exits with one of them."""


class HaltServer(Exception):
    """Ask the arbiter to stop the whole server with a reason and an exit status.

    Raised inside the master (never in a worker) when going on makes no sense: a
    worker reported a boot or app load error, a pid file shows another master is
    running or cannot be written, or a listener cannot be bound. The reason is the
    one line the user reads, so it names what failed and where.
    """

    def __init__(self, reason: str, exit_status: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_status = exit_status

    def __str__(self) -> str:
        return f"<HaltServer {self.reason!r} {self.exit_status}>"


class ConfigError(Exception):
    """A setting has a value minigun cannot use; the message names the setting.

    The entry point prints the message as one line and exits with status 1: a
    traceback would only bury the name of the setting the user has to fix.
    """


class AppImportError(Exception):
    """The ``MODULE:VARIABLE`` application could not be imported or is not callable.

    The message is one paragraph that names what failed (the module, the attribute,
    the factory) so the user does not have to read minigun's own stack frames;
    ``exit_status`` is the code that tells which of them it was.
    """

    def __init__(self, message: str, exit_status: int = APP_LOAD_ERROR) -> None:
        super().__init__(message)
        self.exit_status = exit_status
