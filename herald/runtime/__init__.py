"""How Herald runs: the Celery app and its embedded file queue, the web server, the worker supervisor, the first-run
demo workspace, and the `serve` / `web` / `worker` commands. An app without models, above every other app: nothing
in Herald imports it except the package root (which loads the Celery app, as Django wants) and the CLI."""
