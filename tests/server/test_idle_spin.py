"""server/idle_spin.py: the loop polls (its thread stays busy) for the
window after a kick and sleeps again after it; the default window and the
cgroup CPU quota that turns it off."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from llm_gateway.server.idle_spin import DEFAULT_US, IdleSpin, has_cpu_quota, resolve

IDLE = 0.1  # seconds the test's loop has nothing to do


@pytest.fixture
def yields(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the loop's sched_yield() calls: one per turn of the spin (the
    loop blocked in epoll makes none). Counted rather than timed: CPU time
    would depend on what else the machine runs."""
    count = [0]
    real = os.sched_yield

    def counting() -> None:
        count[0] += 1
        real()

    monkeypatch.setattr(os, "sched_yield", counting)
    return count


async def test_the_loop_polls_for_the_window_then_sleeps(yields: list[int]) -> None:
    spin = IdleSpin(window_us=int(IDLE * 1e6))
    spin.kick()
    assert spin.spinning
    await asyncio.sleep(IDLE / 2)  # the idle period observed, not a synchronisation
    assert yields[0] > 10  # the loop kept turning while nothing else happened
    await asyncio.sleep(IDLE)  # past the window
    await asyncio.sleep(0)  # a turn of the spin runs in between (it is always ready)
    await asyncio.sleep(0)
    assert not spin.spinning  # the window passed: the spin ended on its own
    before = yields[0]
    await asyncio.sleep(IDLE)
    assert yields[0] == before  # asleep again


async def test_a_kick_extends_the_window(yields: list[int]) -> None:
    spin = IdleSpin(window_us=int(IDLE * 1e6))
    spin.kick()
    first = spin.until
    await asyncio.sleep(IDLE / 4)
    spin.kick()
    assert spin.spinning and spin.until > first


async def test_a_zero_window_never_spins(yields: list[int]) -> None:
    spin = IdleSpin(window_us=0)
    spin.kick()
    await asyncio.sleep(IDLE / 2)
    assert not spin.spinning and yields[0] == 0


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(("proc", "files", "quota"), [
    # cgroup v2: the limit may sit on an ancestor (the pod above the container).
    ("0::/kubepods/pod1/ctr\n", {"kubepods/pod1/cpu.max": "50000 100000\n",
                                 "kubepods/pod1/ctr/cpu.max": "max 100000\n"}, True),
    ("0::/kubepods/pod1/ctr\n", {"kubepods/pod1/ctr/cpu.max": "max 100000\n"}, False),
    ("0::/\n", {}, False),  # the root cgroup has no cpu.max
    # cgroup v1, the cpu controller's hierarchy.
    ("4:memory:/x\n3:cpu,cpuacct:/docker/abc\n",
     {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000\n"}, True),
    ("3:cpu,cpuacct:/docker/abc\n", {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1\n"}, False),
    # A line that is not `id:controllers:path` is skipped, not fatal.
    ("garbage\n\n0::/kubepods/pod1\n", {"kubepods/pod1/cpu.max": "50000 100000\n"}, True),
])
def test_a_cpu_quota_is_found_in_the_processs_cgroup(
        tmp_path: Path, proc: str, files: dict[str, str], quota: bool) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    for name, text in files.items():
        write(root / name, text)
    proc_cgroup = write(tmp_path / "proc-cgroup", proc)
    assert has_cpu_quota(root, proc_cgroup) is quota
    assert resolve(None, root, proc_cgroup) == (0 if quota else DEFAULT_US)
    assert resolve(250, root, proc_cgroup) == 250  # a configured window wins


def test_no_proc_cgroup_means_no_quota(tmp_path: Path) -> None:
    assert not has_cpu_quota(tmp_path, tmp_path / "missing")


def test_no_spin_where_the_platform_cannot_yield(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_yield")
    assert resolve(600) == 0 and resolve(None) == 0
