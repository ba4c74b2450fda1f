"""Guided procedures (引导流程): step-by-step flows an agent follows during a call, and their log.

- ``choices``: the TextChoices every layer shares (step kinds, variable types, operators, statuses,
  actions and the endings' outcomes).
- ``graph``: the steps and arrows of a procedure and their validation (plain Python).
- ``engine``: what an agent's action on a step does: answers, inputs, rules, outcomes, Back (plain Python).
- ``blocks`` / ``models``: ``ProcedurePage`` (authored in the Wagtail admin, validated on save and
  publish; ``models.pages``) and the run log, ``ProcedureRun`` + ``RunEvent`` (``models.run_log``).
- ``forms``: what agents post (``StartForm``, ``MoveForm`` built per step), validated there.
- ``runs``: starting runs and applying moves in short transactions, checked against the run's
  current step and expected event number (a double submit writes nothing).
- ``views`` / ``urls``: the run screens (one step per screen, works without JavaScript) and the
  run as JSON for ticket systems.
- ``signals``: ``run_ended`` and the ``before_start_run`` hook, for the apps built on procedures.
- ``stats`` / ``reports`` / ``wagtail_hooks``: supervisors' reports in the admin (CSV/XLSX export).
- ``demo``: loads ``fixtures/demo/procedures/*.yaml``; ``management/commands/mark_abandoned_runs``.

A run is pinned to the page revision live when it started and keeps a snapshot of its steps,
variables and phrasing texts (``ProcedureRun.definition``), so publishing a new version or editing
a phrasing never changes a run in progress.
"""
