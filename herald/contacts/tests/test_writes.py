"""The shared contact-writing functions (used by the API and the importer)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.contacts import writes
from herald.contacts.groups import delete_group
from herald.contacts.models import Contact, ContactGroup, ContactStatus, ContactURN


def urn_rows(contact):
    return [(u.identity, u.priority) for u in contact.urns.order_by("-priority", "id")]


def test_create_contact_with_everything(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="Customers")
    contact = writes.create_contact(
        workspace,
        name="Ann",
        language="fra",
        urns=["tel:+250788000001", "twitter:ann", "tel:+250788000001"],
        fields={"nickname": "Annie", "empty": ""},
        groups=[group],
    )
    contact.refresh_from_db()
    assert (contact.name, contact.language, contact.fields) == ("Ann", "fra", {"nickname": "Annie"})
    # List order is priority order; the duplicate is dropped.
    assert urn_rows(contact) == [("tel:+250788000001", 1000), ("twitter:ann", 999)]
    assert list(contact.groups.all()) == [group]


def test_replacing_urns_detaches_the_old_ones(workspace):
    contact = writes.create_contact(workspace, urns=["tel:+250788000001", "twitter:ann"])
    writes.update_contact(contact, urns=["twitter:ann", "tel:+250788000002"])
    assert urn_rows(contact) == [("twitter:ann", 1000), ("tel:+250788000002", 999)]
    detached = ContactURN.objects.get(identity="tel:+250788000001")
    assert detached.contact is None

    # A detached URN is free for another contact, which takes over the same row.
    other = writes.create_contact(workspace, urns=["tel:+250788000001"])
    assert ContactURN.objects.get(identity="tel:+250788000001").contact == other
    assert ContactURN.objects.filter(identity="tel:+250788000001").count() == 1


def test_merging_urns_keeps_the_others_after_the_given_ones(workspace):
    contact = writes.create_contact(workspace, urns=["tel:+250788000001", "twitter:ann"])
    writes.save_contacts(
        workspace, [writes.ContactChanges(contact=contact, urns=["mailto:ann@example.com"])], merge=True
    )
    assert urn_rows(contact) == [("mailto:ann@example.com", 1000), ("tel:+250788000001", 999), ("twitter:ann", 998)]


def test_urns_of_another_contact_are_in_use(workspace, other_workspace):
    owner = writes.create_contact(workspace, urns=["tel:+250788000001"])
    assert writes.urns_in_use(workspace, ["twitter:x", "tel:+250788000001"]) == [1]
    assert writes.urns_in_use(workspace, ["tel:+250788000001"], contact=owner) == []
    # URNs are unique per workspace only.
    assert writes.urns_in_use(other_workspace, ["tel:+250788000001"]) == []

    with pytest.raises(writes.URNInUse) as caught:
        writes.create_contact(workspace, urns=["twitter:x", "tel:+250788000001"])
    assert caught.value.indexes == [1]


def test_a_deleted_contacts_urns_are_free(workspace):
    contact = writes.create_contact(workspace, urns=["tel:+250788000001"])
    writes.delete_contact(contact)
    assert writes.urns_in_use(workspace, ["tel:+250788000001"]) == []


def test_field_values_merge_and_empty_values_clear(workspace):
    contact = writes.create_contact(workspace, fields={"a": "1", "b": "2", "c": "3"})
    writes.update_contact(contact, fields={"a": "one", "b": None, "c": ""})
    contact.refresh_from_db()
    assert contact.fields == {"a": "one"}


def test_unset_attributes_stay_and_none_clears(workspace):
    contact = writes.create_contact(workspace, name="Ann", language="fra")
    writes.update_contact(contact, language=None)
    contact.refresh_from_db()
    assert (contact.name, contact.language) == ("Ann", None)


def test_groups_replace_or_merge(workspace):
    a, b, c = (ContactGroup.objects.create(workspace=workspace, name=n) for n in "ABC")
    contact = writes.create_contact(workspace, groups=[a, b])
    writes.update_contact(contact, groups=[b, c])
    assert set(contact.groups.all()) == {b, c}
    writes.save_contacts(workspace, [writes.ContactChanges(contact=contact, groups=[a])], merge=True)
    assert set(contact.groups.all()) == {a, b, c}


def test_every_change_marks_the_contact_modified(workspace):
    contact = writes.create_contact(workspace)
    before = Contact.objects.get(pk=contact.pk).modified_on
    writes.set_groups({contact: [ContactGroup.objects.create(workspace=workspace, name="A")]})
    assert Contact.objects.get(pk=contact.pk).modified_on > before


def test_delete_is_soft_and_frees_urns_and_groups(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="A")
    contact = writes.create_contact(workspace, name="Ann", urns=["tel:+250788000001"], groups=[group])
    writes.delete_contact(contact)
    contact.refresh_from_db()
    assert contact.is_active is False
    assert contact.name == "Ann"  # kept for history; the API hides it
    assert not contact.urns.exists()
    assert ContactURN.objects.filter(identity="tel:+250788000001", contact=None).exists()
    assert not group.contacts.exists()


def test_bulk_writes_cost_the_same_queries_for_one_or_many_contacts(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="A")

    def write(n, offset):
        changes = [
            writes.ContactChanges(name=f"c{i}", urns=[f"tel:+2507880{i:05d}", f"twitter:c{i}"], groups=[group])
            for i in range(offset, offset + n)
        ]
        with CaptureQueriesContext(connection) as queries:
            writes.save_contacts(workspace, changes)
        inserts = [q for q in queries if q["sql"].startswith("INSERT")]
        return len(queries) - len(inserts), len(inserts)

    one_other, one_inserts = write(1, 0)
    many_other, many_inserts = write(200, 1)
    assert one_other == many_other
    # Bulk inserts, split only by the database's limit on parameters per statement.
    assert one_inserts == 3
    assert many_inserts <= 12
    assert Contact.objects.count() == 201
    assert group.contacts.count() == 201


def test_two_contacts_can_swap_urns_in_one_write(workspace):
    ann = writes.create_contact(workspace, urns=["tel:+250788000001"])
    bob = writes.create_contact(workspace, urns=["tel:+250788000002"])
    # Bob is written first: Ann's old URN must not be detached after Bob took it.
    writes.save_contacts(
        workspace,
        [
            writes.ContactChanges(contact=bob, urns=["tel:+250788000001"]),
            writes.ContactChanges(contact=ann, urns=["tel:+250788000002"]),
        ],
    )
    assert [u.identity for u in ann.urns.all()] == ["tel:+250788000002"]
    assert [u.identity for u in bob.urns.all()] == ["tel:+250788000001"]


def test_two_new_contacts_cant_share_a_urn(workspace):
    with pytest.raises(writes.URNInUse):
        writes.save_contacts(
            workspace,
            [writes.ContactChanges(urns=["tel:+250788000001"]), writes.ContactChanges(urns=["tel:+250788000001"])],
        )


# Bulk actions (contact_actions.json): each acts on what the contacts are when it writes, not when they were read.


def test_adding_to_a_group_keeps_a_change_made_after_the_contact_was_read(workspace):
    a, b = (ContactGroup.objects.create(workspace=workspace, name=n) for n in "AB")
    contact = writes.create_contact(workspace, groups=[a])
    read_earlier = Contact.objects.get(pk=contact.pk)
    writes.remove_from_group(a, [contact])  # another request, in between
    writes.add_to_group(b, [read_earlier])
    assert set(contact.groups.all()) == {b}


def test_a_contact_blocked_after_it_was_read_cant_join_a_group(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="A")
    ann = writes.create_contact(workspace, name="Ann")
    bob = writes.create_contact(workspace, name="Bob")
    read_earlier = list(Contact.objects.filter(pk__in=[ann.pk, bob.pk]).order_by("id"))
    writes.block([bob])
    with pytest.raises(writes.CantJoinGroups) as caught:
        writes.add_to_group(group, read_earlier)
    assert caught.value.uuids == [str(bob.uuid)]
    assert not group.contacts.exists()  # nobody, Ann included


def test_a_contact_deleted_after_it_was_read_is_gone_for_every_action(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="A")
    contact = writes.create_contact(workspace)
    read_earlier = Contact.objects.get(pk=contact.pk)
    writes.delete_contact(contact)
    actions = [
        lambda: writes.add_to_group(group, [read_earlier]),
        lambda: writes.remove_from_group(group, [read_earlier]),
        lambda: writes.block([read_earlier]),
        lambda: writes.unblock([read_earlier]),
        lambda: writes.delete_contacts([read_earlier]),
    ]
    for action in actions:
        with pytest.raises(writes.ContactsGone) as caught:
            action()
        assert caught.value.uuids == [str(contact.uuid)]


def test_a_group_deleted_after_it_was_read_takes_nobody(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="A")
    contact = writes.create_contact(workspace)
    read_earlier = ContactGroup.objects.get(pk=group.pk)
    delete_group(group)
    with pytest.raises(writes.GroupGone):
        writes.add_to_group(read_earlier, [contact])
    assert not contact.groups.exists()


def test_block_leaves_every_group_and_unblock_rejoins_none(workspace):
    a, b = (ContactGroup.objects.create(workspace=workspace, name=n) for n in "AB")
    contact = writes.create_contact(workspace, groups=[a, b])
    writes.block([contact])
    assert (Contact.objects.get(pk=contact.pk).status, list(contact.groups.all())) == (ContactStatus.BLOCKED, [])
    writes.unblock([contact])
    assert (Contact.objects.get(pk=contact.pk).status, list(contact.groups.all())) == (ContactStatus.ACTIVE, [])


def test_actions_cost_the_same_queries_for_one_or_a_hundred_contacts(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="A")

    def queries(action, contacts) -> int:
        with CaptureQueriesContext(connection) as captured:
            action(contacts)
        return len(captured)

    one = [writes.create_contact(workspace)]
    hundred = [writes.create_contact(workspace) for _ in range(100)]
    for action in (
        lambda contacts: writes.add_to_group(group, contacts),
        lambda contacts: writes.remove_from_group(group, contacts),
        writes.block,
        writes.unblock,
        writes.delete_contacts,
    ):
        assert queries(action, one) == queries(action, hundred)
