"""Objects a workspace knows by their name (groups, fields): a POST creates one, or renames the one `?uuid=` /
`?key=` names; a name already taken is `This field must be unique.`, one past the workspace's limit a 409."""

from contextlib import contextmanager

from django.db import IntegrityError, transaction
from rest_framework import serializers, status
from rest_framework.exceptions import APIException

from .base import WriteAPIMixin

UNIQUE_MESSAGE = "This field must be unique."


class WorkspaceLimitReached(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Cannot create object because workspace has reached limit."
    default_code = "limit_reached"


@contextmanager
def limit_as_conflict(limit_reached: type[Exception]):
    """The domain's "no room for one more" exception, answered as a 409."""
    try:
        yield
    except limit_reached:
        raise WorkspaceLimitReached() from None


# Subclasses declare `name`, the domain's limit (`limit_reached`, `check_limit`) and `create_named`, and may change
# what an update writes (`update_named`: a rename by default). (A comment, not
# a docstring: drf-spectacular would show a docstring as the description of every subclass's schema.)
class CreateOrRenameSerializer(serializers.Serializer):
    limit_reached: type[Exception]

    @staticmethod
    def check_limit(workspace) -> None:
        raise NotImplementedError

    def create_named(self, workspace, name: str):
        raise NotImplementedError

    def update_named(self, instance, name: str | None):
        instance.name = name
        instance.save(update_fields=["name"])
        return instance

    def save(self):
        # An update may leave the name out where the serializer says it is optional (globals: a new value).
        name = self.validated_data.get("name")
        try:
            with limit_as_conflict(self.limit_reached), transaction.atomic():
                if self.instance is None:
                    return self.create_named(self.context["workspace"], name)
                return self.update_named(self.instance, name)
        except IntegrityError:
            # Another request took the name (or key) between our check and our write.
            raise serializers.ValidationError({"name": [UNIQUE_MESSAGE]}) from None


class CreateOrRenameMixin(WriteAPIMixin):
    """POST of an endpoint whose `write_serializer_class` is a CreateOrRenameSerializer."""

    def write(self, request):
        # A new object beyond the limit is refused before anything else is looked at (but after an Idempotency-Key
        # replay: a retry of the create that reached the limit gets its 201 again).
        if not self.lookup_values():
            serializer_class = self.write_serializer_class
            with limit_as_conflict(serializer_class.limit_reached):
                serializer_class.check_limit(self.workspace)
        return super().write(request)
