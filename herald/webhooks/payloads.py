"""What an event carries is the object as the API shows it. The API owns those shapes (its read serializers), and
it sits above this app, so it registers a renderer per kind of object when Django starts (herald.api's AppConfig);
the event writer calls it here, inside the transaction of the change, so the event shows the object as it was
then."""

from collections.abc import Callable, Sequence
from typing import Any

from herald.workspaces.models import Workspace

# (workspace, ids) -> the objects with those ids, as the API shows them, in id order.
Renderer = Callable[[Workspace, Sequence[int]], list[dict[str, Any]]]

_renderers: dict[str, Renderer] = {}


def register(kind: str, renderer: Renderer) -> None:
    _renderers[kind] = renderer


def render(kind: str, workspace: Workspace, ids: Sequence[int]) -> list[dict[str, Any]]:
    try:
        renderer = _renderers[kind]
    except KeyError:
        raise LookupError(f"no renderer registered for {kind!r} objects (herald.api registers them)") from None
    return renderer(workspace, ids)
