"""Real concurrency, on SQLite (IMMEDIATE transactions, one writer at a time) and on PostgreSQL
(``select_for_update`` row locks): two requests sent at the same instant for the same step, as a double
click on two app servers would, log one event, and two agents moving their own runs at once lose nothing.

CI runs the whole suite on both databases (``.ci/run``); these tests are transactional, so each request
thread commits on its own connection as a web worker would."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from procedures.models import RunEvent
from tests.procedures.test_procedure_views import form_state, logged, start

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def at_once(*requests):
    """Run each callable in its own thread, released together; their results in order. Each thread's
    database connection is closed when it ends (PostgreSQL refuses to drop a test database in use)."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)
    errors = []

    def run(index, request):
        try:
            barrier.wait(timeout=30)
            results[index] = request()
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_same_move_sent_twice_at_once_logs_one_event(agent, missing_item):
    first, second = client_for(agent), client_for(agent)
    run = start(first, missing_item)
    data = {**form_state(first.get(reverse("procedures:run", args=[run.pk]))), "action": "next"}
    url = reverse("procedures:move", args=[run.pk])

    responses = at_once(lambda: first.post(url, data), lambda: second.post(url, data))

    assert [r.status_code for r in responses] == [302, 302]
    assert logged(run) == [("greet", "next", "继续")]
    pages = [
        client.get(r["Location"]).content.decode()
        for client, r in zip((first, second), responses, strict=True)
    ]
    assert sum("已经处理过了" in page for page in pages) == 1  # the loser is told, not failed


def test_two_agents_moving_at_once_both_land(agent, other_agent, missing_item):
    clients = client_for(agent), client_for(other_agent)
    runs = [start(client, missing_item) for client in clients]
    posts = []
    for client, run in zip(clients, runs, strict=True):
        data = {**form_state(client.get(reverse("procedures:run", args=[run.pk]))), "action": "next"}
        url = reverse("procedures:move", args=[run.pk])
        posts.append(lambda client=client, url=url, data=data: client.post(url, data))

    responses = at_once(*posts)

    assert [r.status_code for r in responses] == [302, 302]
    for run in runs:
        assert logged(run) == [("greet", "next", "继续")]
    assert RunEvent.objects.filter(run__in=runs).count() == 2
