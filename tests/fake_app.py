"""The unit tests' application stand-in and fake clock: the exercises' own.

The arbiter and the workers need an application object only for its ``cfg``, its
``wsgi()`` and its ``reload()``; a real :class:`~minigun.app.base.BaseApplication`
would also read the command line and a config file. Import it (``from fake_app
import FakeApp``) rather than writing another: one fake, so a change to what the
arbiter or a worker asks of its application is made in one place. ``FakeClock`` is
time that moves only when a test says so (its ``monotonic`` is a clock to pass).

It is defined in ``exercises/fakes.py``, which the exercise tests import: a
student's exercise folder runs on its own, in the student kit (which has no tests/), and
must not import from the project's test suite, while the test suite may import
from the exercises (as ``tests/test_exercises_tool.py`` does).
"""

from exercises.fakes import FakeApp, FakeClock

__all__ = ["FakeApp", "FakeClock"]
