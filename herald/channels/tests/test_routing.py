"""choose_route: which URN and channel a contact's message goes out on.

These tests have no database access (pytest-django refuses any query), which checks that routing makes none.
"""

from datetime import UTC, datetime, timedelta

from herald.channels.models import Channel
from herald.channels.routing import choose_route
from herald.contacts.models import ContactURN

T0 = datetime(2025, 1, 1, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def channel(name, schemes=("tel",), country="", active=True, age=0):
    return Channel(
        id=next(_ids),
        name=name,
        schemes=list(schemes),
        country=country,
        is_active=active,
        created_on=T0 + timedelta(minutes=age),
    )


def urn(identity, priority=1000, affinity=None):
    scheme, path = identity.split(":", 1)
    return ContactURN(
        id=next(_ids), scheme=scheme, path=path, identity=identity, priority=priority, channel_id=affinity
    )


def test_no_urns_or_no_channels_is_no_route():
    assert choose_route([], [channel("a")]) is None
    assert choose_route([urn("tel:+250788123123")], []) is None


def test_highest_priority_urn_that_a_channel_serves_wins():
    tel, mail, twitter = urn("tel:+250788123123", 50), urn("mailto:a@example.com", 99), urn("twitter:bob", 200)
    sms, email = channel("sms"), channel("email", schemes=["mailto"])

    assert choose_route([tel, mail, twitter], [sms, email]) == (mail, email)
    assert choose_route([tel, twitter], [sms, email]) == (tel, sms)


def test_equal_priorities_go_oldest_urn_first():
    first, second = urn("tel:+250788123123"), urn("tel:+250788999999")
    assert choose_route([second, first], [channel("sms")])[0] is first


def test_affinity_channel_is_kept_while_it_is_active_and_serves_the_scheme():
    older, newer = channel("older", age=0), channel("newer", age=1)
    assert choose_route([urn("tel:+250788123123", affinity=newer.id)], [older, newer])[1] is newer

    newer.is_active = False
    assert choose_route([urn("tel:+250788123123", affinity=newer.id)], [older, newer])[1] is older

    mail_only = channel("mail", schemes=["mailto"], age=2)
    assert choose_route([urn("tel:+250788123123", affinity=mail_only.id)], [older, mail_only])[1] is older


def test_tel_prefers_the_numbers_country_then_no_country_never_another_country():
    kenya, rwanda = channel("ke", country="KE", age=0), channel("rw", country="RW", age=1)
    anywhere = channel("any", age=2)
    rwandan, kenyan, american = urn("tel:+250788123123"), urn("tel:+254712345678"), urn("tel:+12065551212")

    assert choose_route([rwandan], [kenya, rwanda, anywhere])[1] is rwanda
    assert choose_route([kenyan], [kenya, rwanda, anywhere])[1] is kenya
    assert choose_route([american], [kenya, rwanda, anywhere])[1] is anywhere
    assert choose_route([american], [kenya, rwanda]) is None


def test_a_tel_urn_with_no_usable_channel_falls_through_to_the_next_urn():
    rwanda, mail = channel("rw", country="RW"), channel("mail", schemes=["mailto"])
    kenyan, email = urn("tel:+254712345678", 200), urn("mailto:a@example.com", 100)
    assert choose_route([kenyan, email], [rwanda, mail]) == (email, mail)


def test_other_schemes_take_the_oldest_channel_serving_them():
    newest, oldest = channel("new", schemes=["whatsapp"], age=5), channel("old", schemes=["whatsapp", "tel"], age=1)
    inactive = channel("gone", schemes=["whatsapp"], age=0, active=False)
    assert choose_route([urn("whatsapp:250788123123")], [newest, inactive, oldest])[1] is oldest
