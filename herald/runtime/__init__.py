"""How Herald runs: the Celery app and its embedded file queue, the web server, the worker supervisor, the first-run
demo workspace, and the `serve` / `web` / `worker` commands. An app without models, above every other app (see
pyproject.toml's layers): no app imports it; the package root loads its Celery app, as Django and Celery want, and
settings name its queue transport by string."""
