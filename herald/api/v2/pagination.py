from rest_framework.pagination import CursorPagination


class CreatedOnCursorPagination(CursorPagination):
    """Newest first, 250 a page; ties on created_on are broken by id and walked with the cursor's offset."""

    ordering = ("-created_on", "-id")
    page_size = 250
    offset_cutoff = 100000


class ModifiedOnCursorPagination(CursorPagination):
    """Most recently modified first; `?reverse=true` walks oldest first."""

    ordering = ("-modified_on", "-id")
    page_size = 250
    offset_cutoff = 100000

    def get_ordering(self, request, queryset, view):
        if str(request.query_params.get("reverse", "")).lower() in ("true", "1"):
            return ("modified_on", "id")
        return self.ordering
