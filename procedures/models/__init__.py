"""Procedures' models: the pages editors write (``pages``) and the log of every run (``run_log``).

``from procedures.models import ProcedureRun`` keeps working: everything in ``__all__`` is here.
"""

from ..choices import EventAction, RunStatus, StepKind
from .pages import (
    ProcedurePage,
    ProcedurePageTag,
    ProcedureRelatedArticle,
    current_procedure,
    forget_cached_procedures,
    procedure_for_revision,
)
from .run_log import ProcedureRun, ProcedureRunQuerySet, RunEvent, abandon_after

__all__ = [
    "EventAction",
    "ProcedurePage",
    "ProcedurePageTag",
    "ProcedureRelatedArticle",
    "ProcedureRun",
    "ProcedureRunQuerySet",
    "RunEvent",
    "RunStatus",
    "StepKind",
    "abandon_after",
    "current_procedure",
    "forget_cached_procedures",
    "procedure_for_revision",
]
