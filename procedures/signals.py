"""What procedures tell the apps built on them (follow-ups, training), which import procedures while
procedures never imports them.

``run_ended`` (a Django signal)
    Sent once when a run ends, after the ending is committed, with ``sender=ProcedureRun``,
    ``run`` (the ``ProcedureRun``) and ``ending``: the ``EventAction`` that ended it (``OUTCOME`` for
    an outcome step, ``ESCALATE``, ``TRANSFER`` or ``GIVE_UP`` for the always-available endings), or
    ``RunStatus.ABANDONED`` when an idle run is marked abandoned. A follow-ups app would connect::

        @receiver(run_ended)
        def open_callback(sender, run, ending, **kwargs):
            if ending == EventAction.ESCALATE and not run.practice:
                ...

``before_start_run`` (a Wagtail hook)
    Called as ``fn(request, procedure, practice)`` before a run of ``procedure`` (a ``ProcedurePage``)
    starts. Return None to let it start; return a message (str) to refuse, shown to the agent on the
    procedure page, or an ``HttpResponse`` to answer the request yourself. A training app might refuse
    live runs (``practice`` False) to new hires who have not passed the procedure's practice yet::

        @hooks.register("before_start_run")
        def practise_first(request, procedure, practice):
            if not practice and not passed(request.user, procedure):
                return _("请先完成这个流程的练习。")


``procedure_start_note`` (a Wagtail hook)
    Called as ``fn(request, procedure)`` when a procedure page is shown; return HTML (or nothing) to
    show in its start box, e.g. why a new hire's run will be a practice run.

``run_summary_panel`` (a Wagtail hook)
    Called as ``fn(request, run)`` when a finished run's summary is shown; return HTML (or nothing) to
    show at its top, e.g. a practice run's score. The admin run timeline
    (``procedures_runs:timeline``) shows the same panels, above its table.

``may_view_run`` (a Wagtail hook)
    Called as ``fn(user, run)`` when someone other than the run's agent, without ``view_procedurerun``,
    asks for a run's replay; return True to let them see it. The feedback app lets whoever handles a
    remark sent from inside a run see that run (the agent chose to share it by sending the remark);
    trainers otherwise see figures only.

``run_json_extra`` (a Wagtail hook)
    Called as ``fn(run)`` when a run is served as JSON (``procedures:run_json``); return a dict whose
    keys are merged into the run's, e.g. the follow-ups a run left::

        @hooks.register("run_json_extra")
        def follow_ups(run):
            return {"follow_ups": [...]}
"""

from django.dispatch import Signal

BEFORE_START_RUN = "before_start_run"
PROCEDURE_START_NOTE = "procedure_start_note"
RUN_SUMMARY_PANEL = "run_summary_panel"
RUN_JSON_EXTRA = "run_json_extra"
MAY_VIEW_RUN = "may_view_run"

run_ended = Signal()
