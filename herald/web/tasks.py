"""The web interface's periodic work: sampling broadcasts' progress for their charts (herald/web/progress.py)."""

from celery import shared_task

from . import progress


@shared_task(name="herald.web.tasks.sample_progress", ignore_result=True)
def sample_progress() -> int:
    return progress.take_samples()
