"""`serve --simulate` restarted in the same folder, after kill -9 or a clean stop: it resumes
the store, the simulator's estate, the dev channel's threads and its dead letters, and says
what it resumed; `--reset` starts a fresh demo instead."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from devtools.localhost.queue_worker import MAX_DELIVERIES
from remediation.runs import TERMINAL
from tests.localhost.process import alive, free_port
from tests.reliability.served import (
    Server,
    approve_last_card,
    eventually,
    hold_next,
    in_step,
    post_alert,
    running_server,
    runs,
)

VM, OTHER_VM = "erp-app-03", "erp-app-04"


def _crash(server: Server) -> None:
    """kill -9 of the host (its worker dies with it)."""
    os.kill(server.served.host_pid(), signal.SIGKILL)


def _cards(server: Server) -> dict[str, str]:
    """Each thread's VM (by the demo VM names) -> its root card's text."""
    found = {}
    for thread in server.threads():
        text = str(thread["activities"][0]["attachments"])
        found.update({vm: text for vm in (VM, OTHER_VM) if vm in text})
    return found


def _fix_of(server: Server, vm: str) -> str | None:
    return next((r["state"] for r in runs(server) if r["vm"] == vm), None)


def _active(server: Server) -> list[str]:
    """Runs not ended yet (the second VM may have joined the approved incident)."""
    return [r["id"] for r in runs(server) if r["state"] not in TERMINAL]


def _shape(state: dict[str, Any]) -> dict[str, Any]:
    """An estate without the times a fresh demo stamps: locks, collections and their points."""
    collections = {c["id"]: len(c["restore_points"]) for c in state["restore_point_collections"]}
    return {"locks": state["locks"], "collections": collections,
            "backups": state["backup_requests"]}  # fmt: skip


def _points_of(state: dict[str, Any], vm: str) -> int:
    return sum(len(c["restore_points"]) for c in state["restore_point_collections"]
               if f"AzureBackup_{vm}_" in c["id"])  # fmt: skip


def test_a_restart_after_a_crash_resumes_the_fix_in_flight_and_the_unprocessed_signal(tmp_path):
    port = free_port()  # the same for each start, as Teams keeps the service URL
    with running_server(tmp_path, port=port) as server:
        fresh = server.simulator_state()
        post_alert(server, VM)
        server.served.wait_processed()
        hold_next(server, "backup.trigger", seconds=60)
        approve_last_card(server)
        assert eventually(lambda: in_step(server, "trigger-backup"), timeout=20)
        lifted = server.simulator_state()["locks"]
        assert lifted != fresh["locks"], "the fix lifted the lock before it was killed"
        post_alert(server, OTHER_VM)  # recorded (202), queued behind the held step
        _crash(server)

    with running_server(tmp_path, port=port) as server:
        log = server.served.log_text()
        assert (
            "resumed the simulated state in .state: 1 card thread(s), 1 signal(s) recorded but "
            "unprocessed (queued again), 1 fix run(s) in flight"
        ) in log, log
        assert server.simulator_state()["locks"] == lifted, "the estate as the crash left it"
        assert eventually(lambda: _fix_of(server, VM) == "succeeded", 45), runs(server)
        server.served.wait_processed()
        assert eventually(lambda: not _active(server), 45), runs(server)
        after = server.simulator_state()
        assert after["locks"] == fresh["locks"], "the lifted lock is back, exactly"
        assert _points_of(after, VM) < _points_of(fresh, VM), "cleaned up"
        assert VM in [r["vm"] for r in after["backup_requests"]]
        cards = _cards(server)
        assert OTHER_VM in cards[VM] or OTHER_VM in cards, "the new signal reached a card"
        assert VM in cards and len(server.threads()) == len(set(cards.values()))


def test_a_clean_restart_resumes_quietly_and_reset_starts_a_fresh_demo(tmp_path):
    port = free_port()  # the same for each start, as Teams keeps the service URL
    with running_server(tmp_path, port=port) as server:
        fresh = server.simulator_state()
        assert "a fresh demo" in server.served.log_text()
        post_alert(server, VM)
        server.served.wait_processed()
        approve_last_card(server)
        assert eventually(lambda: [r["state"] for r in runs(server)] == ["succeeded"], 45)
        fixed = server.simulator_state()
    with running_server(tmp_path, port=port) as server:
        assert "resumed the simulated state in .state: 1 card thread(s), 0 signal(s)" in (
            server.served.log_text()
        )
        assert server.simulator_state() == fixed
        assert [r["state"] for r in runs(server)] == ["succeeded"]
        assert set(_cards(server)) == {VM}
    with running_server(tmp_path, args=("--reset",), port=port) as server:
        log = server.served.log_text()
        assert "--reset: a fresh demo; removed .state/simulate.db" in log
        assert _shape(server.simulator_state()) == _shape(fresh), "the demo as it starts"
        assert runs(server) == [] and server.threads() == []


def _kill_workers_until_dead_lettered(server: Server) -> None:
    """Kill each queue worker the moment the host starts it, until the host dead-letters the
    message it was handing them."""
    served = server.served
    killed: set[int] = set()
    while "dead-lettered" not in served.log_text():
        assert len(killed) <= 2 * MAX_DELIVERIES, served.log_text()
        for pid in set(_children(served.host_pid())) - killed:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.01)  # a spawned worker takes a second to import before it reads


def _children(pid: int) -> list[int]:
    children = []
    for stat in os.scandir("/proc"):
        if stat.name.isdigit() and alive(int(stat.name)):
            try:
                with open(f"/proc/{stat.name}/stat") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{stat.name}/cmdline", "rb") as file:
                    command = file.read()
            except FileNotFoundError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in command:
                children.append(int(stat.name))
    return children


def test_a_dead_lettered_message_stays_dead_lettered_after_a_restart(tmp_path):
    port = free_port()  # the same for each start, as Teams keeps the service URL
    with running_server(tmp_path, port=port) as server:
        assert eventually(server.served.worker_pids, timeout=20)
        [worker] = server.served.worker_pids()
        os.kill(worker, signal.SIGSTOP)  # the alert's message is handed to a stopped worker
        post_alert(server, VM)
        _kill_workers_until_dead_lettered(server)
        assert server.threads() == [], "the worker died on each delivery: no card"
    with running_server(tmp_path, port=port) as server:
        post_alert(server, OTHER_VM)  # queued after the signals sent again at start
        assert eventually(lambda: OTHER_VM in _cards(server), timeout=20), "new work is done"
        assert VM not in _cards(server), "the dead-lettered signal came back and was processed"
        log = server.served.log_text()
        assert "1 dead-lettered message(s) (not delivered again)" in log
        assert "not delivered: its work is dead-lettered" in log
