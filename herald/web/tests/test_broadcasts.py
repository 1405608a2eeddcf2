"""The broadcasts list and a broadcast's page through Django's test client: what they show (the API's own counts),
keyset paging, live polling only while something moves, actions by role, another workspace's broadcast (404),
escaping, and query counts that don't grow with the page."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from herald.msgs.models import Broadcast, BroadcastStatus, Msg
from herald.testing.factories import TEST_PASSWORD, create_web_user, make_broadcast, make_contact, make_group
from herald.testing.fixtures import post_broadcast, results
from herald.testing.gateway import gateway_channel, reply
from herald.web import progress
from herald.web.models import ProgressSample

pytestmark = pytest.mark.django_db
B = BroadcastStatus


def text_of(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def api_counts(api, uuid: str) -> dict:
    (listed,) = results(api.get("/api/v2/broadcasts.json", {"uuid": uuid}))
    return listed["counts"]


@pytest.fixture
def people(workspace):
    return [make_contact(workspace, f"Person {i}", [f"tel:+25078811000{i}"]) for i in range(3)]


def send(admin, body, django_capture_on_commit_callbacks) -> dict:
    """POST a broadcast and run what its commit queues (fan-out, then delivery: eager tasks); its JSON as posted."""
    with django_capture_on_commit_callbacks(execute=True):
        return post_broadcast(admin, body)


@pytest.fixture
def sent(workspace, admin, people, gateway, eager_tasks, django_capture_on_commit_callbacks):
    """A broadcast sent through the API to three people, the fake gateway taking every message."""
    gateway_channel(workspace, gateway.url)
    body = {"contacts": [str(p.uuid) for p in people], "text": {"eng": "Clinic opens at 9", "fra": "Ouverture à 9h"}}
    return send(admin, body, django_capture_on_commit_callbacks)


def test_the_list_shows_each_broadcast_with_the_apis_counts(web_client, workspace, admin, sent):
    page = text_of(web_client(workspace).get("/broadcasts/"))
    assert "Clinic opens at 9" in page
    assert '<span class="status status-completed">completed</span>' in page
    counts = api_counts(admin, sent["uuid"])
    assert counts["wired"] == 3  # handed to the gateway, which sends no report
    assert f"sent {counts['sent'] + counts['wired']}" in page  # the list groups wired with sent
    assert "3 / 3" in page
    assert "Person 0" in page  # the recipients, by name
    assert "hx-trigger" not in page  # nothing moves: no polling


def test_the_list_is_newest_first_and_keyset_paged(web_client, workspace):
    start = timezone.now() - timedelta(days=1)
    for n in range(30):
        make_broadcast(workspace, f"Broadcast number {n:02d}", created_on=start + timedelta(minutes=n))
    client = web_client(workspace)
    first = text_of(client.get("/broadcasts/"))
    shown = re.findall(r"Broadcast number (\d\d)", first)
    assert shown == [f"{n:02d}" for n in range(29, 4, -1)]  # 25 newest, newest first
    older = re.search(r'href="\?before=([^"]+)" rel="next"', first).group(1)
    second = text_of(client.get(f"/broadcasts/?before={older}"))
    assert re.findall(r"Broadcast number (\d\d)", second) == ["04", "03", "02", "01", "00"]
    assert 'rel="next"' not in second
    assert "Newest" in second


def test_broadcasts_of_one_moment_are_each_listed_once_across_pages(web_client, workspace):
    # The cursor bounds created_on (<=, for the index) and settles the rows of that very moment by id.
    moment = timezone.now() - timedelta(hours=1)
    for n in range(30):
        make_broadcast(workspace, f"Broadcast number {n:02d}", created_on=moment)
    client = web_client(workspace)
    first = text_of(client.get("/broadcasts/"))
    older = re.search(r'href="\?before=([^"]+)" rel="next"', first).group(1)
    second = text_of(client.get(f"/broadcasts/?before={older}"))
    shown = re.findall(r"Broadcast number (\d\d)", first) + re.findall(r"Broadcast number (\d\d)", second)
    assert shown == [f"{n:02d}" for n in range(29, -1, -1)]  # by id, newest first: none twice, none left out


def test_a_made_up_cursor_is_a_400_that_says_so(web_client, workspace):
    response = web_client(workspace).get("/broadcasts/", {"before": "yesterday_1"})
    assert response.status_code == 400
    assert "That page of broadcasts doesn&#x27;t exist: start from the newest." in response.content.decode()


@pytest.mark.parametrize("size", [2, 20])
def test_the_lists_queries_dont_grow_with_the_page(web_client, workspace, people, django_assert_num_queries, size):
    group = make_group(workspace, "Mothers", people)
    for n in range(size):
        make_broadcast(workspace, f"Hello {n}", contacts=people[:2], groups=[group], urns=["tel:+250788999000"])
    client = web_client(workspace)
    # The session, its user, the user's memberships with their workspaces; the page with its counts; the contacts
    # and groups it names.
    with django_assert_num_queries(6):
        text_of(client.get("/broadcasts/"))


def test_while_messages_wait_the_list_and_the_page_poll_a_small_fragment(
    web_client, workspace, admin, people, gateway, eager_tasks, django_capture_on_commit_callbacks
):
    gateway_channel(workspace, gateway.url)
    gateway.will(reply(503))  # every send is refused for now: the messages wait to be retried
    body = {"contacts": [str(p.uuid) for p in people], "text": "Retry me"}
    sent = send(admin, body, django_capture_on_commit_callbacks)
    client = web_client(workspace)
    page = text_of(client.get("/broadcasts/"))
    assert 'hx-get="/broadcasts/" hx-trigger="every 2s" hx-swap="outerHTML"' in page

    fragment = text_of(client.get("/broadcasts/", HTTP_HX_REQUEST="true"))
    assert fragment.lstrip().startswith('<tbody id="broadcast-rows"')
    assert "<html" not in fragment
    assert "errored" in text_of(client.get(f"/broadcasts/{sent['uuid']}/"))

    progress_part = text_of(client.get(f"/broadcasts/{sent['uuid']}/progress", HTTP_HX_REQUEST="true"))
    assert progress_part.lstrip().startswith('<section id="progress"')
    assert f'hx-get="/broadcasts/{sent["uuid"]}/progress"' in progress_part
    assert '<dd data-count="errored">3</dd>' in progress_part


def test_a_broadcasts_page_shows_its_content_recipients_and_messages(web_client, workspace, sent, people):
    client = web_client(workspace)
    page = text_of(client.get(f"/broadcasts/{sent['uuid']}/"))
    assert '<article class="translation" lang="eng">' in page
    assert "Ouverture à 9h" in page
    assert "Person 2" in page
    assert page.count('<span class="status status-wired">wired</span>') == 3  # one per message
    assert "Pause" not in page
    assert "Interrupt" not in page

    filtered = text_of(client.get(f"/broadcasts/{sent['uuid']}/", {"status": "failed"}))
    assert "No messages here yet." in filtered
    response = client.get(f"/broadcasts/{sent['uuid']}/", {"status": "lost"})
    assert response.status_code == 400
    assert "Unknown status lost" in response.content.decode()


def test_a_messages_log_shows_the_gateways_exchange(web_client, workspace, sent):
    client = web_client(workspace)
    msg = Msg.objects.filter(broadcast__uuid=sent["uuid"]).first()
    page = text_of(client.get(f"/broadcasts/{sent['uuid']}/"))
    assert f'href="/broadcasts/{sent["uuid"]}/messages/{msg.uuid}/log"' in page
    log = text_of(client.get(f"/broadcasts/{sent['uuid']}/messages/{msg.uuid}/log"))
    assert "POST http://127.0.0.1:" in log
    assert "→ 200" in log


def test_another_workspaces_broadcast_and_message_are_404(web_client, workspace, other_workspace, sent):
    theirs = make_broadcast(other_workspace, "Not yours")
    client = web_client(workspace)
    assert client.get(f"/broadcasts/{theirs.uuid}/").status_code == 404
    assert client.get(f"/broadcasts/{theirs.uuid}/progress").status_code == 404
    assert client.post(f"/broadcasts/{theirs.uuid}/action", {"action": "interrupt"}).status_code == 404
    msg = Msg.objects.filter(broadcast__uuid=sent["uuid"]).first()
    assert client.get(f"/broadcasts/{theirs.uuid}/messages/{msg.uuid}/log").status_code == 404
    Broadcast.objects.filter(id=theirs.id).update(is_active=True)
    assert Broadcast.objects.get(id=theirs.id).status == B.PENDING


def test_html_in_a_broadcasts_text_and_a_contacts_name_is_escaped(web_client, workspace):
    evil = make_contact(workspace, '<img src=x onerror="alert(1)">', ["tel:+250788120000"])
    make_broadcast(workspace, "<script>alert('hi')</script>", contacts=[evil])
    client = web_client(workspace)
    for url in ["/broadcasts/", f"/broadcasts/{Broadcast.objects.get().uuid}/"]:
        page = text_of(client.get(url))
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt;" in page
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_an_editor_pauses_and_resumes_with_the_apis_rules(web_client, workspace, people):
    broadcast = make_broadcast(workspace, "Hi", contacts=people, status=B.STARTED)
    client = web_client(workspace, "editor")
    page = text_of(client.get(f"/broadcasts/{broadcast.uuid}/"))
    assert 'value="pause"' in page
    assert 'value="interrupt"' in page
    assert 'value="resume"' not in page

    response = client.post(f"/broadcasts/{broadcast.uuid}/action", {"action": "pause"}, follow=True)
    assert "Broadcast paused" in text_of(response)
    broadcast.refresh_from_db()
    assert broadcast.status == B.PAUSED
    assert 'value="resume"' in text_of(response)
    assert 'value="pause"' not in text_of(response)

    # Paused already: the refusal is control.py's own sentence, and nothing changes.
    response = client.post(f"/broadcasts/{broadcast.uuid}/action", {"action": "pause"}, follow=True)
    assert f"Broadcast {broadcast.uuid} can&#x27;t be paused: it is paused." in text_of(response)

    client.post(f"/broadcasts/{broadcast.uuid}/action", {"action": "resume"})
    broadcast.refresh_from_db()
    assert broadcast.status == B.STARTED
    assert client.post(f"/broadcasts/{broadcast.uuid}/action", {"action": "explode"}).status_code == 400
    assert client.get(f"/broadcasts/{broadcast.uuid}/action").status_code == 405


def test_an_agent_sees_broadcasts_but_cant_act_on_them(web_client, workspace, people):
    broadcast = make_broadcast(workspace, "Hi", contacts=people, status=B.STARTED)
    client = web_client(workspace, "agent")
    page = text_of(client.get(f"/broadcasts/{broadcast.uuid}/"))
    assert 'value="pause"' not in page
    response = client.post(f"/broadcasts/{broadcast.uuid}/action", {"action": "interrupt"})
    assert response.status_code == 403
    assert "Your role (agent) can't do this in this workspace." in response.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.status == B.STARTED


def test_actions_need_the_csrf_token(workspace, people):
    broadcast = make_broadcast(workspace, "Hi", contacts=people, status=B.STARTED)
    client = Client(enforce_csrf_checks=True)
    user = create_web_user(workspace)
    client.get("/signin")
    token = client.cookies["csrftoken"].value
    client.post("/signin", {"email": user.email, "password": TEST_PASSWORD, "csrfmiddlewaretoken": token})
    assert client.post(f"/broadcasts/{broadcast.uuid}/action", {"action": "pause"}).status_code == 403
    broadcast.refresh_from_db()
    assert broadcast.status == B.STARTED
    response = client.post(
        f"/broadcasts/{broadcast.uuid}/action",
        {"action": "pause", "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 302


def test_the_chart_draws_the_samples_and_sampling_writes_only_changes(web_client, workspace, admin, sent):
    broadcast = Broadcast.objects.get(uuid=sent["uuid"])
    assert progress.take_samples() == 1
    assert progress.take_samples() == 0  # nothing moved
    ProgressSample.objects.update(taken_on=timezone.now() - timedelta(minutes=1))
    page = text_of(web_client(workspace).get(f"/broadcasts/{broadcast.uuid}/"))
    assert '<polyline class="line line-sent"' in page
    assert "Messages by status over time" in page


def test_the_broadcast_page_is_a_few_queries_whatever_its_messages(
    web_client, workspace, sent, django_assert_max_num_queries, django_assert_num_queries
):
    client = web_client(workspace)
    with django_assert_max_num_queries(12):
        text_of(client.get(f"/broadcasts/{sent['uuid']}/"))
    # What one watcher costs, every WEB_POLL_SECONDS: the session, its user, the user's memberships, the broadcast
    # with its count rows, the chart's samples.
    with django_assert_num_queries(5):
        text_of(client.get(f"/broadcasts/{sent['uuid']}/progress", HTTP_HX_REQUEST="true"))
