"""`herald contacts import ...`: the older, plural name of `herald contact`, kept so that existing scripts work."""

from herald.contacts.management.commands.contact import Command as ContactCommand


class Command(ContactCommand):
    alias_of = "contact"
    help = "Same as `herald contact` (its older name)."
