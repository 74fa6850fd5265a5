"""The exercise tool: the student's runner, and the teacher's check and kit builder.

Run it from a repository's root as ``python -m exercises.tool COMMAND``. In the student
kit the Makefile's ``exercise``, ``hint``, ``watch``, ``list``, ``reset`` and ``run``
targets do; in the instructor's repository ``check-exercises``, ``student-kit``
(``python -m exercises.tool.kit``) and ``check-kit`` (``python -m
exercises.tool.kitcheck``). ``make grade`` runs ``python -m exercises.tool.grade``,
which grades a class's kits (``grade``, ``gradebook``, ``similarity``), and
``autograding`` writes the kit's Classroom configuration: the teacher's modules, never
in the kit. Everything here is plain Python and the standard library, plus pytest to
run the tests (and babel, on the teacher's side, for the book's titles).
"""
