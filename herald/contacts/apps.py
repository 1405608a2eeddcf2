from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "herald.contacts"
    label = "contacts"
