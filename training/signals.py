"""Receivers: practice runs are scored when they end; joining a group or a cohort assigns its path;
editing a path brings its trainees' items up to date."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from procedures.signals import run_ended

from . import practice, progress
from .models import LearningPath


@receiver(run_ended, dispatch_uid="training_score_practice")
def score_practice_run(sender, run, ending, **kwargs):
    practice.score_run(run, ending)


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="training_group_paths")
def assign_group_paths(sender, instance, action, reverse, pk_set, **kwargs):
    if action != "post_add" or not pk_set:
        return
    if reverse:  # group.user_set.add(...): instance is the group
        for user in get_user_model().objects.filter(pk__in=pk_set):
            progress.assign_for_groups(user, [instance])
    else:
        progress.assign_for_groups(instance, Group.objects.filter(pk__in=pk_set))


@receiver(post_save, sender=LearningPath, dispatch_uid="training_sync_path")
def sync_path_items(sender, instance, raw=False, **kwargs):
    if not raw:
        progress.sync_path(instance)
