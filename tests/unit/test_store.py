"""The shared store, in memory and (with REDIS_URL) in Redis: the same behaviour from both."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
import redis.asyncio as aioredis

from gateway.store import CLIENT_NAME, RedisStore, Store, Tally, Touched
from tests.conftest import service_url


async def test_put_get_delete_and_only_new(store: Store) -> None:
    assert await store.put("k", "v", ttl=60)
    assert await store.get("k") == "v"
    assert not await store.put("k", "w", ttl=60, only_new=True)
    assert await store.get("k") == "v"
    await store.delete("k")
    assert await store.get("k") is None


async def test_count_unless_renews_the_expiry_and_counts_nothing_while_blocked(store: Store) -> None:
    assert await store.count_unless("n", ttl=1, blocker="b") == 1
    assert await store.count_unless("n", ttl=100, blocker="b") == 2
    remaining = await store.ttl("n")
    assert remaining is not None and remaining > 50  # set again by the second count
    await store.put("b", "1", ttl=60)
    assert await store.count_unless("n", ttl=100, blocker="b") is None
    await store.delete("b")
    assert await store.count_unless("n", ttl=100, blocker="b") == 3


async def test_incr_and_get_counts_reads_the_other_and_keeps_the_first_expiry(store: Store) -> None:
    assert await store.incr_and_get("window:2", 100, "window:1") == (1, None)
    await store.put("window:1", "7", ttl=60)
    assert await store.incr_and_get("window:2", 1, "window:1") == (2, "7")
    remaining = await store.ttl("window:2")
    assert remaining is not None and remaining > 50
    assert await store.get("window:2") == "2"


async def test_keys_expire(store: Store) -> None:
    await store.put("short", "v", ttl=1)
    await asyncio.sleep(1.1)
    assert await store.get("short") is None


async def test_sets(store: Store) -> None:
    await store.set_add("s", "a", ttl=60)
    await store.set_add("s", "b", ttl=60)
    await store.set_remove("s", "a")
    assert await store.set_members("s") == {"b"}


async def test_get_touch_linked_reads_the_key_a_field_names_and_restarts_the_first(store: Store) -> None:
    await store.put("sess:1", '{"u": "user-1", "c": 1}', ttl=2)
    await store.put("stamp:user-1", "s1", ttl=60)
    await store.put("stamp:user-2", "s2", ttl=60)
    assert await store.get_touch_linked("sess:1", 100, "u", "stamp:") == Touched(
        '{"u": "user-1", "c": 1}', "s1"
    )
    remaining = await store.ttl("sess:1")
    assert remaining is not None and remaining > 50
    linked = await store.ttl("stamp:user-1")
    assert linked is not None and linked <= 60  # the linked key's own time to live, not restarted
    # the linked key absent, the field absent or not a string, the value not JSON: the value alone
    await store.delete("stamp:user-1")
    assert await store.get_touch_linked("sess:1", 100, "u", "stamp:") == Touched('{"u": "user-1", "c": 1}')
    for value in ('{"c": 1}', '{"u": 7}', '["u"]', "not json", '"user-2"'):
        await store.put("sess:2", value, ttl=60)
        assert await store.get_touch_linked("sess:2", 100, "u", "stamp:") == Touched(value)
    assert await store.get_touch_linked("absent", 100, "u", "stamp:") == Touched(None)
    assert await store.get("absent") is None


async def test_get_touch_linked_counts_a_tally_under_the_linked_field(store: Store) -> None:
    """The per-user rate limit's count comes with the session: under the same keys as ``over_limit``'s."""
    await store.put("sess:1", '{"u": "user-1"}', ttl=60)
    await store.put("sess:2", '{"u": "user-1"}', ttl=60)
    await store.put("rate:user:user-1:41", "7", ttl=60)
    tally = Tally("rate:user:", 42, 120)
    assert await store.get_touch_linked("sess:1", 60, "u", "stamp:", tally) == Touched(
        '{"u": "user-1"}', None, 1, "7"
    )
    assert (
        await store.get_touch_linked("sess:2", 60, "u", "stamp:", tally)
    ).counted == 2  # the user's, not the session's
    remaining = await store.ttl("rate:user:user-1:42")
    assert remaining is not None and 60 < remaining <= 120
    assert await store.incr_and_get("rate:user:user-1:42", 120, "rate:user:user-1:41") == (3, "7")
    # no session, or one without the field: nothing counted
    assert await store.get_touch_linked("absent", 60, "u", "stamp:", tally) == Touched(None)
    await store.put("sess:3", '{"c": 1}', ttl=60)
    assert await store.get_touch_linked("sess:3", 60, "u", "stamp:", tally) == Touched('{"c": 1}')
    assert await store.get("rate:user:None:42") is None


def test_redis_replies_are_parsed_by_hiredis() -> None:
    """A pinned dependency: without it redis-py parses replies in Python, about 40 µs more per command."""
    store = RedisStore("redis://127.0.0.1:6379/0")  # no connection is made
    connection = store._redis.connection_pool.make_connection()
    assert type(connection._parser).__name__ == "_AsyncHiredisParser"


@pytest.mark.services
async def test_new_connections_are_named_and_nothing_they_send_is_refused() -> None:
    """Opening connections costs Redis no error (redis-py's CLIENT SETINFO and maintenance notifications are
    refused before Redis 7.2) and each shows in CLIENT LIST as the gateway's."""
    store = RedisStore(service_url("REDIS_URL"), prefix=f"test:{uuid.uuid4().hex}:")
    admin = aioredis.Redis.from_url(service_url("REDIS_URL"), decode_responses=True)
    try:
        refused = await admin.info("errorstats")
        names = [c["name"] for c in await admin.client_list()]
        await asyncio.gather(*(store.get(f"k{i}") for i in range(4)))  # concurrent: new connections
        assert await admin.info("errorstats") == refused
        opened = Counter(c["name"] for c in await admin.client_list()) - Counter(names)
        assert opened[CLIENT_NAME] >= 2 and set(opened) == {CLIENT_NAME}
    finally:
        await admin.aclose()
        await store.close()


@pytest.mark.services
async def test_a_session_is_read_after_redis_forgot_the_script() -> None:
    """A restarted Redis has no scripts: the first read loads it again (EVALSHA, then EVAL)."""
    store = RedisStore(service_url("REDIS_URL"), prefix=f"test:{uuid.uuid4().hex}:")
    admin = aioredis.Redis.from_url(service_url("REDIS_URL"))
    try:
        await store.put("sess:1", '{"u": "user-1"}', ttl=60)
        await store.put("stamp:user-1", "s1", ttl=60)
        assert await store.get_touch_linked("sess:1", 60, "u", "stamp:") == Touched('{"u": "user-1"}', "s1")
        await admin.script_flush()
        assert await store.get_touch_linked("sess:1", 60, "u", "stamp:") == Touched('{"u": "user-1"}', "s1")
    finally:
        await admin.aclose()
        await store.close()
