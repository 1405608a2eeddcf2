"""Herald's message template language: RapidPro's "Excellent" `@` expressions.

Parse once per broadcast with `parse(text)`, then `Template.render(context)` per contact. The context is plain
data (dicts, lists, strings, numbers, booleans, datetimes, None); a dict's `__default__` key is the text it renders
as. See template.py for the rendering rules and functions.py for the built-in functions.
"""

from .template import TOP_LEVELS, Template, parse
from .values import DEFAULT_KEY

__all__ = ("DEFAULT_KEY", "TOP_LEVELS", "Template", "parse")
