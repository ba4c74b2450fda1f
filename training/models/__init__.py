"""Training models: paths and their progress, quizzes and attempts, reading, practice and licences."""

from .paths import (
    Cohort,
    ItemProgress,
    LearningPath,
    PathAssignment,
    PlanItem,
    PlanStage,
    StatusChange,
    TrainingSettings,
)
from .practice import PracticeSession, ProcedureLicence, ReadConfirmation, ScenarioCard
from .quizzes import AttemptAnswer, Question, QuestionOption, Quiz, QuizAttempt

__all__ = [
    "AttemptAnswer",
    "Cohort",
    "ItemProgress",
    "LearningPath",
    "PathAssignment",
    "PlanItem",
    "PlanStage",
    "PracticeSession",
    "ProcedureLicence",
    "Question",
    "QuestionOption",
    "Quiz",
    "QuizAttempt",
    "ReadConfirmation",
    "ScenarioCard",
    "StatusChange",
    "TrainingSettings",
]
