"""The exercise tool: generator, runner and teacher's check for the class exercises.

Run it from the repository root as ``python -m exercises.tool COMMAND``; the Makefile's
``exercise``, ``hint``, ``watch``, ``reset``, ``solution`` and ``check-exercises``
targets do. Everything here is plain Python and the standard library, plus pytest to
run the tests.
"""
