"""The pacing the management commands share: what Stripe sees when the process stalls."""

from __future__ import annotations

import sys
import threading
import time

from customer_sessions.management.progress import Pacer


def test_callers_that_wake_late_still_go_one_interval_apart():
    pacer = Pacer(10)  # 0.1 s apart
    pacer.wait()  # the first slot, now
    returned: list[float] = []
    started = threading.Barrier(5)

    def call() -> None:
        started.wait()
        pacer.wait()
        returned.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.02)  # all four are waiting for a slot
    # The process stalls for 0.5 s (as in a long garbage collection): this thread keeps the
    # interpreter while every waiting slot passes.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    try:
        stall_ends = time.monotonic() + 0.5
        while time.monotonic() < stall_ends:
            pass
    finally:
        sys.setswitchinterval(interval)
    for thread in threads:
        thread.join()

    returned.sort()
    assert returned[0] >= stall_ends
    gaps = [later - earlier for earlier, later in zip(returned, returned[1:], strict=False)]
    assert min(gaps) >= 0.08, gaps  # 0.1 s, less a busy machine's wake-up jitter


def test_a_quiet_spell_earns_no_burst():
    pacer = Pacer(20)  # 0.05 s apart
    pacer.wait()
    time.sleep(0.3)  # six slots' worth of silence
    times = []
    for _ in range(4):
        pacer.wait()
        times.append(time.monotonic())
    assert times[-1] - times[0] >= 3 * 0.05 * 0.9
