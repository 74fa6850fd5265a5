"""An application module that cannot be imported: the server must halt, not respawn."""

raise RuntimeError("examples.app_broken cannot be imported (on purpose)")
