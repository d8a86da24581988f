"""The weekly digest: the week's numbers from the store, a chart Teams can show (a PNG data
URI), one card per week and channel from the timer, and "digest" in chat."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.chart import stacked_bars
from bot.digest import DIGESTS, digest_card, send_weekly
from remediation.digest import last_seven_days, previous_week, week
from tests.bot_app.harness import bot_app
from tests.bot_app.test_incident_flow import texts
from tests.botkit.servers import run_async
from tests.engine.signals import rp_limit_alert

WEDNESDAY = datetime(2026, 11, 4, 15, 30, tzinfo=UTC)


def _at(days: float) -> str:
    return (WEDNESDAY - timedelta(days=days)).isoformat()


def _incident(vm: str, cause: str, opened: float, fixed_after: float | None = None) -> dict:
    doc = {"id": f"inc-{vm}-{cause}", "entry_id": cause, "root_cause": cause, "vms": [vm],
           "first_seen": _at(opened), "fired_at": _at(opened + 0.01), "language": "en"}  # fmt: skip
    if fixed_after is not None:
        doc |= {"resolved_at": _at(opened - fixed_after), "resolution": {"why": "fixed"}}
    return doc


def _run(state: str, days: float) -> dict:
    return {"state": state, "created": _at(days), "vm": "x"}


def test_the_week_counts_causes_fixes_time_to_fix_and_the_vms_that_failed_most():
    incidents = [
        _incident("erp-app-03", "rp-collection-limit-reached", 2, fixed_after=0.1),
        _incident("erp-app-03", "guest-agent-status-unavailable", 3),
        _incident("file-02", "rp-collection-limit-reached", 1, fixed_after=0.2),
        _incident("old-01", "rp-collection-limit-reached", 9),  # before the week
    ]
    runs = [_run("succeeded", 2), _run("succeeded", 1), _run("failed", 1), _run("failed", 12)]
    found = week(incidents, runs, WEDNESDAY - timedelta(days=7), WEDNESDAY)
    assert found.incidents == 3
    assert found.by_cause == {"rp-collection-limit-reached": 2,
                              "guest-agent-status-unavailable": 1}  # fmt: skip
    assert found.fixes == {"succeeded": 2, "failed": 1}
    assert found.failing_vms[0] == ("erp-app-03", 2)
    assert timedelta(hours=2) < found.median_time_to_fix < timedelta(hours=4)
    assert [dict(day) for day in found.per_day][-2:] == [{"succeeded": 1},
                                                         {"succeeded": 1, "failed": 1}]  # fmt: skip
    said = texts(digest_card(found, "en"))
    assert "Incidents opened: 3" in said
    assert "Fixes: 3 run · 2 succeeded · 1 failed" in said
    assert "Time to fix (median): 3 h 50 min" in said
    assert "• Restore point collection limit reached: 2" in said
    assert "erp-app-03 (2), file-02 (1)" in said
    french = texts(digest_card(found, "fr"))
    assert "3 lancées · 2 réussies · 1 échouées" in french


def test_the_timer_reports_the_previous_whole_iso_week():
    start, end = previous_week(WEDNESDAY)
    assert (start.isoformat(), end.isoformat()) == ("2026-10-26T00:00:00+00:00",
                                                    "2026-11-02T00:00:00+00:00")  # fmt: skip
    assert week([], [], start, end).key == "2026-W44"


def test_chat_charts_the_last_seven_calendar_days_each_bar_under_its_own_day():
    """A fix that ran today sits under today's name, not yesterday's."""
    start, end = last_seven_days(WEDNESDAY)  # Wednesday 15:30 UTC
    runs = [_run("failed", 10 / 1440), _run("succeeded", 6.6), _run("succeeded", 6.7)]
    found = week([], runs, start, end)  # 10 min ago; Thursday 01:06; Wednesday 22:42 (out)
    said = texts(digest_card(found, "en"))
    assert said.startswith("Weekly digest: 2026-10-29 to 2026-11-04\n")
    assert "\nThu\nFri\nSat\nSun\nMon\nTue\nWed\n" in said  # today last
    assert [dict(day) for day in found.per_day] == [{"succeeded": 1}, *[{}] * 5, {"failed": 1}]


def _decoded(png: bytes) -> tuple[int, int, list[bytes]]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    start = png.index(b"IDAT") + 4
    length = struct.unpack(">I", png[start - 8 : start - 4])[0]
    raw = zlib.decompress(png[start : start + length])
    stride = 1 + width * 3
    return width, height, [raw[i * stride + 1 : (i + 1) * stride] for i in range(height)]


def test_the_chart_is_a_png_teams_accepts_with_a_bar_per_day():
    png = stacked_bars([[3, 1, 0], [0, 0, 0], [1, 2, 1]], [(0, 128, 0), (200, 0, 0), (9, 9, 9)])
    width, height, rows = _decoded(png)
    assert width <= 1024 and height <= 1024 and len(png) < 1024 * 1024  # Teams' image limits
    pixels = {bytes(row[i : i + 3]) for row in rows for i in range(0, len(row), 3)}
    assert {b"\x00\x80\x00", b"\xc8\x00\x00", b"\x09\x09\x09"} <= pixels
    card = digest_card(week([], [], *previous_week(WEDNESDAY)), "en")
    [image] = [b for b in card["body"] if b["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,")
    _decoded(base64.b64decode(image["url"].split(",", 1)[1]))
    assert "A quiet week" in texts(card)


@pytest.mark.timeout(60)
@run_async
async def test_the_timer_posts_the_digest_once_per_week_and_chat_asks_for_it(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        posts = len(app.calls("create"))
        await app.sync(app.services.poll)  # the timer's cycle
        digests = [c for c in app.calls("create")[posts:] if "Weekly digest" in texts(
            c.body["activity"]["attachments"][0]["content"])]  # fmt: skip
        assert len(digests) == 1
        assert await app.sync(send_weekly, app.engine, app.notifier) == 0  # once per week
        assert len(app.engine.store.query(DIGESTS)) == 1

        answer = await app.say("digest")
        said = texts(answer)
        assert said.startswith("Weekly digest: ")
        assert "Incidents opened: 2" in said  # the alert, and the migration item the poll read
        assert any(b["type"] == "Image" for b in answer["body"])


@run_async
async def test_a_digest_that_fails_to_post_is_tried_again_next_cycle(tmp_path):
    async with bot_app(tmp_path) as app:
        await app.install()
        app.connector.fail_next(503, times=3)  # every attempt of one post
        assert await app.sync(send_weekly, app.engine, app.notifier) == 0
        assert app.engine.store.query(DIGESTS) == []
        assert await app.sync(send_weekly, app.engine, app.notifier) == 1
