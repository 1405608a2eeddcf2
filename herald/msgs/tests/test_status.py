"""Status changes move forward only; send outcomes follow the retry policy."""

from datetime import UTC, datetime, timedelta

import pytest

from herald.channels.base import PermanentSendError, RecipientStopped, SendResult, TransientSendError
from herald.contacts.models import ContactStatus, StatusReason
from herald.msgs.models import FailedReason, Msg, MsgStatus
from herald.msgs.status import (
    allowed_from,
    apply_status,
    fail_unsent,
    hold,
    record_send_result,
    record_send_results,
    release,
    retry_delay,
)
from herald.testing.factories import make_contact, make_msg

S = MsgStatus
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def contact(workspace):
    return make_contact(workspace, "Bob", urns=["tel:+250788123123"])


def msg_in(contact, status, **fields):
    return make_msg(contact, status=status, **fields)


def status_of(msg):
    msg.refresh_from_db()
    return msg.status


# The forward order and the rules for `failed`, every pair: (from, to) -> applied?
FORWARD = [S.QUEUED, S.ERRORED, S.WIRED, S.SENT, S.DELIVERED, S.READ]


# docs/COMPATIBILITY.md, C14: RapidPro lets a late report move a status back.
@pytest.mark.parametrize("old", [*FORWARD, S.INITIALIZING, S.FAILED])
@pytest.mark.parametrize("new", [S.ERRORED, S.WIRED, S.SENT, S.DELIVERED, S.READ, S.FAILED])
def test_every_transition(contact, old, new):
    msg = msg_in(contact, old, failed_reason=FailedReason.RETRIES if old == S.FAILED else None)

    rank = {S.INITIALIZING: 0, **{status: i for i, status in enumerate(FORWARD)}}
    if new == S.FAILED:
        expected = old not in (S.DELIVERED, S.READ, S.FAILED)
    elif old == S.FAILED:
        expected = new in (S.DELIVERED, S.READ)
    else:
        expected = rank[new] > rank[old]

    assert apply_status(msg, new, now=NOW) is expected
    assert status_of(msg) == (new if expected else old)
    assert msg.status == (new if expected else old)  # the in-memory message agrees


def test_sent_on_is_set_once_and_kept(contact):
    msg = msg_in(contact, S.QUEUED)
    apply_status(msg, S.WIRED, now=NOW)
    apply_status(msg, S.DELIVERED, now=NOW + timedelta(minutes=5))

    msg.refresh_from_db()
    assert (msg.sent_on, msg.modified_on) == (NOW, NOW + timedelta(minutes=5))


def test_failed_keeps_reason_and_detail_and_delivered_afterwards_clears_the_reason(contact):
    msg = msg_in(contact, S.SENT, next_attempt=NOW)
    apply_status(msg, S.FAILED, detail="handset unreachable", now=NOW)

    msg.refresh_from_db()
    assert (msg.status, msg.failed_reason, msg.error_detail, msg.next_attempt) == (
        S.FAILED,
        FailedReason.PERMANENT,
        "handset unreachable",
        None,
    )
    assert apply_status(msg, S.DELIVERED, now=NOW)
    msg.refresh_from_db()
    assert (msg.status, msg.failed_reason, msg.error_detail) == (S.DELIVERED, None, "handset unreachable")


def test_external_id_is_stored(contact):
    msg = msg_in(contact, S.QUEUED)
    apply_status(msg, S.WIRED, external_id="gw-42")
    msg.refresh_from_db()
    assert msg.external_id == "gw-42"


def test_queryset_returns_how_many_changed(contact, workspace):
    other = make_contact(workspace, "Ann", urns=["tel:+250788999999"])
    wired, delivered = msg_in(contact, S.WIRED), msg_in(other, S.DELIVERED)

    assert apply_status(Msg.objects.filter(pk__in=[wired.pk, delivered.pk]), S.SENT, now=NOW) == 1
    assert (status_of(wired), status_of(delivered)) == (S.SENT, S.DELIVERED)


def test_incoming_messages_and_non_outgoing_statuses_are_refused(contact):
    incoming = msg_in(contact, S.PENDING, direction="I")
    assert apply_status(incoming, S.DELIVERED) is False
    with pytest.raises(ValueError, match="not an outgoing message status"):
        allowed_from(S.HANDLED)


# Send outcomes and the retry policy.


def test_success_wires_the_message(contact):
    msg = msg_in(contact, S.ERRORED, error_count=1, next_attempt=NOW)

    assert record_send_result(msg, SendResult(external_id="abc"), NOW)

    msg.refresh_from_db()
    assert (msg.status, msg.sent_on, msg.next_attempt, msg.external_id) == (S.WIRED, NOW, None, "abc")


def test_transient_errors_back_off_then_fail_with_retries(contact, settings):
    settings.SEND_RETRY_DELAYS = [10, 60, 300]
    msg = msg_in(contact, S.QUEUED)

    for attempt, delay in enumerate([10, 60, 300], start=1):
        assert record_send_result(msg, TransientSendError(f"HTTP 503 #{attempt}"), NOW)
        msg.refresh_from_db()
        assert (msg.status, msg.error_count, msg.next_attempt) == (S.ERRORED, attempt, NOW + timedelta(seconds=delay))
        assert msg.error_detail == f"HTTP 503 #{attempt}"

    record_send_result(msg, TransientSendError("timed out"), NOW)
    msg.refresh_from_db()
    assert (msg.status, msg.failed_reason, msg.error_count, msg.next_attempt) == (
        S.FAILED,
        FailedReason.RETRIES,
        4,
        None,
    )
    assert msg.error_detail == "timed out"


def test_max_retries_can_be_given(contact):
    msg = msg_in(contact, S.QUEUED)
    record_send_result(msg, TransientSendError("x"), NOW, max_retries=0)
    assert (status_of(msg), msg.failed_reason) == (S.FAILED, FailedReason.RETRIES)


def test_permanent_error_fails_at_once(contact):
    msg = msg_in(contact, S.QUEUED)

    record_send_result(msg, PermanentSendError("gateway answered HTTP 400: bad number"), NOW)

    msg.refresh_from_db()
    assert (msg.status, msg.failed_reason, msg.error_detail, msg.error_count) == (
        S.FAILED,
        FailedReason.PERMANENT,
        "gateway answered HTTP 400: bad number",
        1,
    )


def test_a_retry_after_delays_the_next_attempt_at_least_that_long_and_at_most_an_hour(contact, settings):
    settings.SEND_RETRY_DELAYS = [10, 60, 300]
    short, long, huge = msg_in(contact, S.QUEUED), msg_in(contact, S.QUEUED), msg_in(contact, S.QUEUED)

    record_send_result(short, TransientSendError("HTTP 429", retry_after=2), NOW)  # the back-off is longer
    record_send_result(long, TransientSendError("HTTP 429", retry_after=90), NOW)
    record_send_results([(huge, TransientSendError("HTTP 429", retry_after=86_400))], NOW)

    for msg in (short, long, huge):
        msg.refresh_from_db()
    assert [msg.next_attempt - NOW for msg in (short, long, huge)] == [
        timedelta(seconds=10),
        timedelta(seconds=90),
        timedelta(hours=1),
    ]


@pytest.mark.parametrize("bulk", [False, True])
def test_a_recipient_the_provider_says_opted_out_fails_for_its_contact_and_is_stopped(contact, bulk):
    msg = msg_in(contact, S.QUEUED)
    refusal = RecipientStopped("Twilio error 21610: Attempt to send to unsubscribed recipient")

    if bulk:
        record_send_results([(msg, refusal)], NOW)
    else:
        record_send_result(msg, refusal, NOW)

    msg.refresh_from_db()
    contact.refresh_from_db()
    assert (msg.status, msg.failed_reason, msg.error_detail) == (S.FAILED, FailedReason.CONTACT, refusal.detail)
    assert (contact.status, contact.status_reason) == (ContactStatus.STOPPED, StatusReason.PROVIDER_STOP)
    assert list(contact.status_changes.values_list("status", "reason")) == [
        (ContactStatus.STOPPED, StatusReason.PROVIDER_STOP)
    ]


def test_unexpected_exceptions_count_as_transient(contact):
    msg = msg_in(contact, S.QUEUED)
    record_send_result(msg, KeyError("send_url"), NOW)
    msg.refresh_from_db()
    assert (msg.status, msg.error_detail) == (S.ERRORED, "KeyError: 'send_url'")


def test_a_report_that_arrived_first_wins_over_the_send_outcome(contact):
    msg = msg_in(contact, S.QUEUED)
    stale = Msg.objects.get(pk=msg.pk)
    apply_status(msg, S.DELIVERED, now=NOW)  # a fast gateway reported before answering the send

    assert record_send_result(stale, SendResult(), NOW) is False
    assert record_send_result(stale, TransientSendError("read timeout"), NOW) is False
    assert status_of(msg) == S.DELIVERED


def test_retry_delays_repeat_the_last(settings):
    settings.SEND_RETRY_DELAYS = [5, 20]
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 7)] == [5, 20, 20, 20]


def test_bulk_recording_groups_identical_changes(contact, workspace, django_assert_num_queries):
    others = [make_contact(workspace, f"C{i}", urns=[f"tel:+25078800000{i}"]) for i in range(4)]
    ok = [msg_in(c, S.QUEUED) for c in [contact, *others[:2]]]
    errored, refused = msg_in(others[2], S.QUEUED), msg_in(others[3], S.QUEUED)
    outcomes = [(m, SendResult()) for m in ok]
    outcomes += [(errored, TransientSendError("503")), (refused, PermanentSendError("400"))]

    with django_assert_num_queries(3):  # one UPDATE for the three successes, one each for the errors
        assert record_send_results(outcomes, NOW) == 5

    assert [status_of(m) for m in ok] == [S.WIRED] * 3
    assert (status_of(errored), status_of(refused)) == (S.ERRORED, S.FAILED)


# A paused broadcast's held messages, an interrupted or expired one's failed ones (docs/COMPATIBILITY.md, C47, C48)


def test_hold_and_release_keep_the_retry_and_the_count_and_touch_nothing_handed_over(contact):
    retry_at = NOW + timedelta(minutes=5)
    queued, errored = msg_in(contact, S.QUEUED), msg_in(contact, S.ERRORED, error_count=2, next_attempt=retry_at)
    wired = msg_in(contact, S.WIRED)
    msgs = Msg.objects.filter(pk__in=[queued.pk, errored.pk, wired.pk])

    assert hold(msgs, NOW) == 2
    assert [status_of(m) for m in (queued, errored, wired)] == [S.HELD_QUEUED, S.HELD_ERRORED, S.WIRED]
    assert not Msg.objects.due(NOW + timedelta(hours=1)).exists()
    assert release(msgs, NOW) == 2
    assert [status_of(m) for m in (queued, errored, wired)] == [S.QUEUED, S.ERRORED, S.WIRED]
    assert (errored.error_count, errored.next_attempt) == (2, retry_at)


@pytest.mark.parametrize("bulk", [False, True])
def test_a_send_result_for_a_message_held_while_on_the_wire_is_recorded(contact, bulk):
    sent, retried, refused = (msg_in(contact, S.QUEUED) for _ in range(3))
    stale = list(Msg.objects.filter(pk__in=[sent.pk, retried.pk, refused.pk]).order_by("pk"))
    hold(Msg.objects.all(), NOW)  # paused while the three were on the wire
    outcomes = list(
        zip(stale, [SendResult(), TransientSendError("503"), PermanentSendError("bad number")], strict=True)
    )
    if bulk:
        assert record_send_results(outcomes, NOW) == 3
    else:
        assert all(record_send_result(msg, outcome, NOW) for msg, outcome in outcomes)
    # Handed over, waiting held for its retry (resume sends it then, not twice), refused.
    assert [status_of(m) for m in (sent, retried, refused)] == [S.WIRED, S.HELD_ERRORED, S.FAILED]


@pytest.mark.parametrize("reason", [FailedReason.INTERRUPTED, FailedReason.EXPIRED])
def test_a_message_on_the_wire_when_its_broadcast_ended_is_wired_if_the_gateway_took_it(contact, reason):
    taken, retried = msg_in(contact, S.QUEUED), msg_in(contact, S.QUEUED)
    stale = list(Msg.objects.filter(pk__in=[taken.pk, retried.pk]).order_by("pk"))
    assert fail_unsent(Msg.objects.all(), reason, NOW) == 2
    record_send_results([(stale[0], SendResult(external_id="x1")), (stale[1], TransientSendError("503"))], NOW)
    taken.refresh_from_db()
    retried.refresh_from_db()
    assert (taken.status, taken.failed_reason, taken.external_id) == (S.WIRED, None, "x1")
    assert (retried.status, retried.failed_reason) == (S.FAILED, reason)


def test_fail_unsent_leaves_what_was_handed_over(contact):
    waiting = [msg_in(contact, status) for status in (S.QUEUED, S.ERRORED, S.HELD_QUEUED, S.HELD_ERRORED)]
    handed = [msg_in(contact, status) for status in (S.WIRED, S.SENT, S.DELIVERED)]
    assert fail_unsent(Msg.objects.all(), FailedReason.INTERRUPTED, NOW) == 4
    assert {status_of(m) for m in waiting} == {S.FAILED}
    assert [status_of(m) for m in handed] == [S.WIRED, S.SENT, S.DELIVERED]
