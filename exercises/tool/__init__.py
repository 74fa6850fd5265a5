"""The exercise tool: generator, runner and teacher's check for the class exercises.

Run it from the repository root as ``python -m exercises.tool COMMAND``; the Makefile's
``exercise``, ``hint``, ``watch``, ``reset``, ``solution`` and ``check-exercises``
targets do. ``make grade`` runs ``python -m exercises.tool.grade``, which grades a
class's kits (``grade``, ``gradebook``, ``similarity``); ``autograding`` writes the
kit's Classroom configuration. Those four are the teacher's and never ship in the kit.
Everything here is plain Python and the standard library, plus pytest to run the
tests.
"""
