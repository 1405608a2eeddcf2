"""What every v2 endpoint shares: auth headers, listing, writing, deleting, workspace scoping."""

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from herald.api import idempotency

from .openapi import EndpointSchema
from .pagination import CreatedOnCursorPagination
from .params import InvalidParam, exclusive_params, parse_uuid, reject_nul_params

BLOCKER_FLAGGED = (
    "Sorry, your workspace is currently flagged. To re-enable starting flows and sending messages, please contact "
    "support."
)
BLOCKER_SUSPENDED = (
    "Sorry, your workspace is currently suspended. To re-enable starting flows and sending messages, please contact "
    "support."
)


def sending_blocker(workspace) -> str | None:
    """Why this workspace may not send now (flagged or suspended), or None: the first check of every write that sends
    (a broadcast, the media it attaches), also for the web interface's compose page."""
    if workspace.is_flagged:
        return BLOCKER_FLAGGED
    if workspace.is_suspended:
        return BLOCKER_SUSPENDED
    return None


# One Markdown page per endpoint (`<endpoint_name>.md`) and `index.md` for the API as a whole.
DOCS_DIR = Path(__file__).parent / "docs"


@cache
def documentation_page(name: str) -> str:
    """The Markdown of `docs/<name>.md`: an endpoint's page at `/api/v2/<name>` and its OpenAPI description."""
    return (DOCS_DIR / f"{name}.md").read_text(encoding="utf-8").strip()


class BaseEndpoint(GenericAPIView):
    """An endpoint served at `/api/v2/<name>.json`, documented by `docs/<name>.md` (shown at `/api/v2/<name>`).

    Subclasses set `roles` (method → roles allowed), `throttle_scope` and `serializer_class` (read shape).
    """

    roles: dict = {}
    throttle_scope = "v2"
    # Name shown in the index and docs, e.g. "broadcasts".
    endpoint_name = ""
    # One-line summary for the index and docs pages.
    title = ""
    # Documents what every endpoint answers without saying so (see EndpointSchema).
    schema = EndpointSchema()

    @classmethod
    def documentation(cls) -> str:
        return documentation_page(cls.endpoint_name)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        reject_nul_params(request)

    def get_authenticate_header(self, request):
        # No challenge means DRF answers failed auth with 403, never 401, as RapidPro does.
        return None

    @property
    def workspace(self):
        return self.request.auth.workspace

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["workspace"] = self.request.auth.workspace
            context["user"] = self.request.user
        return context

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        token = getattr(request, "_auth", None)
        if token is not None:
            response["X-Temba-Workspace"] = str(token.workspace.uuid)
        response["Content-Language"] = "en"
        return response


# The mixins below are mixed into BaseEndpoint subclasses: type-check them as one.
if TYPE_CHECKING:
    _Endpoint = BaseEndpoint
else:
    _Endpoint = object


class ListAPIMixin(_Endpoint):
    """GET: the filtered queryset, a cursor page at a time."""

    pagination_class: type[BasePagination] | None = CreatedOnCursorPagination
    # The query-string filters (`filters.Filter`), in the order they are read; the OpenAPI parameters come from them.
    list_filters: list = []
    # Filters of which one request may give one at most.
    exclusive_filters: list[str] = []

    def filter_queryset(self, queryset):
        if self.exclusive_filters:
            exclusive_params(self.request, self.exclusive_filters)
        for list_filter in self.list_filters:
            queryset = list_filter.apply(self, queryset)
        return queryset

    def get(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self.prepare_page(page)
        data = self.get_serializer(page, many=True).data
        return self.get_paginated_response(data)

    def prepare_page(self, page: list) -> None:
        """Hook: load what the page's items show, in a fixed number of queries for the whole page."""


class LookupMixin(_Endpoint):
    """Finds the object a POST (update) or DELETE names in its query string, e.g. `?uuid=`."""

    # Query parameter → model field, e.g. {"uuid": "uuid"}.
    lookup_params: dict = {"uuid": "uuid"}

    def lookup_values(self) -> dict:
        given = {p: self.request.query_params.get(p) for p in self.lookup_params if self.request.query_params.get(p)}
        if len(given) > 1:
            raise InvalidParam(
                f"URL can only contain one of the following parameters: {', '.join(sorted(self.lookup_params))}"
            )
        return given

    def lookup_object(self, param: str, value: str):
        """Default lookup by UUID within this workspace's queryset; endpoints with other params override."""
        uuid = parse_uuid(value, param)
        obj = self.get_queryset().filter(**{self.lookup_params[param]: uuid}).first()
        if obj is None:
            raise exceptions.NotFound()
        return obj

    def get_lookup_object(self):
        given = self.lookup_values()
        if not given:
            return None
        (param, value), *_ = given.items()
        return self.lookup_object(param, value)


class WriteAPIMixin(LookupMixin):
    """POST: create, or update the object named by a lookup param; 201 / 200 with the read representation."""

    write_serializer_class: type[BaseSerializer[Any]]  # set by each endpoint that writes
    # Endpoints whose writes send (broadcasts, and the media they attach) are refused to a flagged or suspended
    # workspace; managing contacts, groups and fields sends nothing, so those stay open.
    blocked_when_flagged = False

    def post(self, request, *args, **kwargs):
        key = idempotency.key_from(request)
        if key is None:
            return self.write(request)
        # With an Idempotency-Key, a retry of the same request gets the first response back instead of writing again.
        return idempotency.run_once(self, key, lambda: self.write(request))

    def write(self, request):
        checked = self.validated_write(request)
        if isinstance(checked, Response):
            return checked
        instance, serializer = checked
        with transaction.atomic():
            saved = serializer.save()
        self.after_write(saved, created=instance is None)
        return self.write_response(saved, created=instance is None)

    def validated_write(self, request) -> "Response | tuple[Any, BaseSerializer[Any]]":
        """The object a POST changes (None to create one) and its valid write serializer, or the 400 that says
        what is wrong: every check a write makes before it writes (a dry run makes them too, then writes nothing)."""
        instance = self.get_lookup_object()
        if not isinstance(request.data, dict):
            return Response(
                {"non_field_errors": ["Request body should be a single JSON object"]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        blocker = self.workspace_blocker()
        if blocker:
            return Response({"non_field_errors": [blocker]}, status=status.HTTP_400_BAD_REQUEST)

        serializer = self.write_serializer_class(
            instance=instance, data=request.data, context=self.get_serializer_context()
        )
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        return instance, serializer

    def write_response(self, saved, created):
        body = self.get_serializer(saved).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def workspace_blocker(self) -> str | None:
        return sending_blocker(self.workspace) if self.blocked_when_flagged else None

    def after_write(self, obj, created: bool) -> None:
        """Hook run after the write committed (e.g. to enqueue work)."""


class BulkWriteAPIMixin(WriteAPIMixin):
    """POST: one action on many objects named in the body (RapidPro's `BulkWriteAPIMixin`): 204 with no body."""

    lookup_params: dict = {}

    def write_response(self, saved, created):
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeleteAPIMixin(LookupMixin):
    """DELETE `?uuid=`: 204, or 404 when this workspace has no such object."""

    def delete(self, request, *args, **kwargs):
        if not self.lookup_values():
            names = ", ".join(sorted(self.lookup_params))
            raise InvalidParam(f"URL must contain one of the following parameters: {names}")
        self.perform_delete(self.get_lookup_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_delete(self, obj) -> None:
        obj.delete()
