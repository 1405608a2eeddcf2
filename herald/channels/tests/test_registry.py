"""The channel-type registry: a type is one folder named after its code, registered by one line of the registry."""

from herald.channels.registry import TYPE_CLASSES, TYPES


def test_each_type_is_the_type_module_of_the_folder_named_after_its_code():
    assert {code: type(kind).__module__ for code, kind in TYPES.items()} == {
        code: f"herald.channels.{code}.type" for code in TYPES
    }


def test_no_two_registered_types_share_a_code_or_a_callback_route():
    """A type copied from another folder keeps its model's names until they are changed: the registry would drop
    one of two types with the same code, and the callback routes of two types with one path or URL name clash."""
    with_callbacks = [kind for kind in TYPES.values() if kind.callback_path]
    assert len(TYPES) == len(TYPE_CLASSES)
    assert len({kind.callback_path for kind in with_callbacks}) == len(with_callbacks)
    assert len({kind.callback_url_name for kind in with_callbacks}) == len(with_callbacks)
