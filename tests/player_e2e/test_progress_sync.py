"""Progress reports survive a network outage and a restart, and arrive in order."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from player.api import BackendApi
from player.progress import ProgressJournal, ProgressSync

from .conftest import Catalog


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _session(catalog: Catalog, client: httpx.AsyncClient) -> tuple[BackendApi, str]:
    api = BackendApi(catalog.stack.api, client)
    await api.login("carol", "carol-pw")
    info = await api.playback_info(catalog.clear)
    return api, info.session_id


def test_reports_made_offline_are_replayed_in_order_after_a_restart(
    catalog: Catalog, tmp_path: Path
) -> None:
    journal = ProgressJournal(tmp_path / "pending-progress.jsonl")
    device = f"test-{uuid.uuid4().hex[:6]}"
    clock = iter(range(1_000_000, 1_000_100))

    async def offline() -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            api, session_id = await _session(catalog, client)
            api.api_url = "http://127.0.0.1:9"  # the network goes away (discard port: refused)
            sync = ProgressSync(journal, api.report_progress, clock=lambda: float(next(clock)))
            for offset, reason in ((3.0, "periodic"), (7.5, "pause"), (9.0, "close")):
                assert not await sync.report(catalog.clear, session_id, offset, device, reason)
            assert sync.last_error is not None and "127.0.0.1:9" in sync.last_error

    run(offline())
    # The process is gone; the journal on disk holds all three, oldest first.
    assert [r.offset_seconds for r in journal.pending()] == [3.0, 7.5, 9.0]
    lines = journal.path.read_text().splitlines()
    journal.path.write_text(
        "\n".join([*lines, '{"video_id": "cut mid-wri']) + "\n"
    )  # a crash mid-write

    async def back_online() -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            api, _ = await _session(catalog, client)
            sent: list[float] = []

            async def send(body: dict[str, object]) -> None:
                await api.report_progress(body)
                sent.append(float(body["offset_seconds"]))  # type: ignore[arg-type]

            sync = ProgressSync(journal, send)
            assert await sync.flush()
            assert sent == [3.0, 7.5, 9.0]

    run(back_online())
    assert journal.pending() == []
    token = catalog.stack.token("carol")
    items = httpx.get(
        f"{catalog.stack.api}/api/v1/users/me/continue-watching",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    stored = next(i for i in items if i["video_id"] == catalog.clear and i["device_id"] == device)
    assert stored["offset_seconds"] == 9.0


def test_a_report_the_api_refuses_for_good_does_not_block_the_rest(
    catalog: Catalog, tmp_path: Path
) -> None:
    journal = ProgressJournal(tmp_path / "journal.jsonl")

    async def go() -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            api, session_id = await _session(catalog, client)
            sync = ProgressSync(journal, api.report_progress)
            # An unknown playback session: 404, which no retry can fix.
            assert await sync.report(catalog.clear, "no-such-session", 1.0, "dev", "periodic")
            assert await sync.report(catalog.clear, session_id, 2.0, "dev", "periodic")
            assert sync.sent == 1

    run(go())
    assert journal.pending() == []


def test_a_report_made_while_another_is_being_sent_is_neither_lost_nor_sent_twice(
    catalog: Catalog, tmp_path: Path
) -> None:
    """The player reports from timers and keys while a slow send is in flight: the second
    report's flush must not race the first (here the network drops in between)."""
    journal = ProgressJournal(tmp_path / "journal.jsonl")
    device = f"test-{uuid.uuid4().hex[:6]}"

    async def go() -> list[float]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            api = BackendApi(catalog.stack.api, client)
            await api.login("carol", "carol-pw")
            session_id = (await api.playback_info(catalog.locked)).session_id
            online = api.api_url
            first_send_may_finish = asyncio.Event()
            calls: list[float] = []
            sent: list[float] = []

            async def send(body: dict[str, object]) -> None:
                calls.append(float(body["offset_seconds"]))  # type: ignore[arg-type]
                if len(calls) == 1:
                    await first_send_may_finish.wait()  # a slow answer
                await api.report_progress(body)
                sent.append(float(body["offset_seconds"]))  # type: ignore[arg-type]

            sync = ProgressSync(journal, send)
            first = asyncio.create_task(
                sync.report(catalog.locked, session_id, 1.0, device, "pause")
            )
            await asyncio.sleep(0.1)
            api.api_url = "http://127.0.0.1:9"  # the network goes away (discard port: refused)
            second = asyncio.create_task(
                sync.report(catalog.locked, session_id, 2.0, device, "seek")
            )
            await asyncio.sleep(0.1)
            api.api_url = online
            first_send_may_finish.set()
            await asyncio.gather(first, second)
            assert await sync.flush()
            return sent

    assert run(go()) == [1.0, 2.0]
    assert journal.pending() == []
    token = catalog.stack.token("carol")
    items = httpx.get(
        f"{catalog.stack.api}/api/v1/users/me/continue-watching",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    stored = next(i for i in items if i["video_id"] == catalog.locked)
    assert (stored["offset_seconds"], stored["device_id"]) == (2.0, device)
