"""Cost of `imsvalog trace` by internal ID on a big log.imss, as a ratio to `grep -c -F ID` in the same run.

Generates the log with the benchmarks' generator (``benchmarks/generate.py``, as
bench_correlate does: scanner threads interleaved, mostly generic debug lines), picks the internal ID of a policy event in the middle
of the log, and times, best of ``--repeat``:

* baseline: ``grep -c -F ID log.imss`` (what an engineer does by hand)
* ``imsvalog trace ID log.imss --format jsonl`` (the whole command, process start included)
* the same with the polevt file given too
* start-up alone: ``imsvalog trace --help`` (imports and argument parsing: what a trace costs before it reads
  a byte; ``python -X importtime -m imsvalog trace --help`` shows where it goes)

Usage::

    python benchmarks/bench_trace.py --size-mb 1000
    python benchmarks/bench_trace.py --size-mb 1000 --keep /tmp/bench   # reuse the generated files next time

The issue's goal: at most 3x grep at 1 GB.  Machines here are noisy: quote the ratio (wall, and CPU, which
load disturbs less).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_correlate import best
from generate import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=1000.0, help="size of the generated log.imss (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    ap.add_argument("--keep", type=Path, help="write the generated files here and keep them (reused when present)")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="imsvalog-bench-trace-"))
    work.mkdir(parents=True, exist_ok=True)
    log, pol = work / "log.imss.20240312.0001", work / "polevt.imss.20240312.0001"
    try:
        if not (log.exists() and pol.exists() and abs(log.stat().st_size / 1e6 - args.size_mb) < args.size_mb * 0.05 + 1):
            log, pol, _ = generate(work, args.size_mb)
        events = pol.read_text().splitlines()
        iid = events[len(events) // 2].split("\t")[1]
        size = log.stat().st_size
        grep = shutil.which("grep")
        if grep is None:
            raise SystemExit("grep not found")
        g, g_cpu, _, g_out = best([grep, "-c", "-F", iid, str(log)], args.repeat)
        t, t_cpu, rss, t_out = best([sys.executable, "-m", "imsvalog", "trace", iid, str(log), "--format", "jsonl"], args.repeat)
        tp, _, _, tp_out = best([sys.executable, "-m", "imsvalog", "trace", iid, str(log), str(pol), "--format", "jsonl"], args.repeat)
        start, start_cpu, _, _ = best([sys.executable, "-m", "imsvalog", "trace", "--help"], args.repeat)
        print(f"log.imss {size / 1e6:.0f} MB; internal ID {iid} (policy event {len(events) // 2 + 1} of {len(events)})")
        n = g_out.strip()
        print(f"grep -c -F ID                 {g:8.3f} s   ({n} line{'' if n == '1' else 's'})")
        print(f"imsvalog trace ID log.imss    {t:8.3f} s   ({t_out.count(chr(10))} timeline lines)   {t / g:5.1f}x grep, peak RSS {rss:.0f} MB")
        print(f"  CPU (user + sys)            {t_cpu:8.3f} s   grep {g_cpu:.3f} s                {t_cpu / max(g_cpu, 1e-3):5.1f}x grep")
        print(f"  ... with polevt.imss too    {tp:8.3f} s   ({tp_out.count(chr(10))} timeline lines)   {tp / g:5.1f}x grep")
        print(f"start-up: trace --help        {start:8.3f} s   (CPU {start_cpu:.3f} s)   {start / t:5.0%} of the trace")
        if t_out.count("\n") < 10:
            raise SystemExit("trace found too few lines: the benchmark is not measuring a real trace")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
