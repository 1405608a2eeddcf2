from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "herald.workspaces"
    label = "workspaces"
