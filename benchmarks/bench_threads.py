"""read_log_imss called from several threads of one process at once, and beside a busy Python thread: a hang
(deadlock) or only slowness? Prints wall and CPU as ratios against one read alone, measured in the same run.

    .venv/bin/python benchmarks/bench_threads.py --log /work/bench-data/100mb-27/log.imss.20240312.0001 --threads 4
    IMSVALOG_WORKERS=1 .venv/bin/python benchmarks/bench_threads.py --log ... --threads 4

A watchdog dumps every thread's stack to stderr and exits 3 if a step runs longer than --timeout seconds (a hang
shows where it waits). No timed unit test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys
import threading
import time

from imsvalog import read_log_imss


def _read(path: str, out: dict[int, int], i: int) -> None:
    out[i] = len(read_log_imss(path))


def _step(name: str, targets: list[threading.Thread], timeout: float) -> tuple[float, float]:
    faulthandler.dump_traceback_later(timeout, exit=True)  # a hang: every thread's stack, exit 3
    t0, c0 = time.perf_counter(), time.process_time()
    for t in targets:
        t.start()
    for t in targets:
        t.join()
    faulthandler.cancel_dump_traceback_later()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    rows: dict[int, int] = {}
    base_wall, base_cpu = _step("alone", [threading.Thread(target=_read, args=(a.log, rows, 0))], a.timeout)
    n = rows[0]
    wall, cpu = _step("threads", [threading.Thread(target=_read, args=(a.log, rows, i)) for i in range(a.threads)],
                      a.timeout)
    assert all(v == n for v in rows.values()), rows
    stop = threading.Event()
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.INFO)  # noqa: SIM115

    def busy() -> None:
        k = 0
        while not stop.is_set():
            logging.info("tick %d", k)
            k += 1

    spinner = threading.Thread(target=busy)
    spinner.start()
    try:
        s_wall, s_cpu = _step("beside", [threading.Thread(target=_read, args=(a.log, rows, 99))], a.timeout)
    finally:
        stop.set()
        spinner.join()
    print(f"workers={os.environ.get('IMSVALOG_WORKERS', 'default')} rows={n} (CPU: this process only, not a worker's)")
    print(f"one read alone                 {base_wall:7.1f} s wall {base_cpu:7.1f} s CPU   1.0x")
    print(f"{a.threads} reads at once in {a.threads} threads  {wall:7.1f} s wall {cpu:7.1f} s CPU   "
          f"{wall / base_wall:.1f}x wall ({wall / base_wall / a.threads:.2f}x per read)")
    print(f"one read beside a busy thread  {s_wall:7.1f} s wall {s_cpu:7.1f} s CPU   {s_wall / base_wall:.1f}x wall")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
