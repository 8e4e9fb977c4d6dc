"""Speed and memory of imsvalog against baselines measured in the same run, printed as one table.

Generates (or reuses, with ``--data``) a realistic log.imss/polevt.imss pair of a given
size and marker density (``benchmarks/generate.py``), then measures, each in its own
process (wall time, CPU time and peak RSS from ``wait4``), best of ``--repeat``:

========================================  ==========================================
measurement                               compared with
========================================  ==========================================
``grep -c -F AntiSpoofFilter`` (LC_ALL=C)  the baseline of correlate
``imsvalog correlate LOG POLEVT --format   grep (goal: at most 10x at 1 GB)
jsonl`` (the whole command)
one compiled ``re`` parsing every line     the baseline of read_log_imss
of a slice (in Python)
``read_log_imss`` on the slice             the regex (goal: within 1.5x, >= 50 MB/s)
``pandas.read_csv(sep="\\t")`` on a         the baseline of read_polevt
polevt.imss of ``--polevt-mb``
``read_polevt`` on the same                read_csv (goal: within 1.5x)
``imsvalog export`` of the slice and       MB/s
the polevt
========================================  ==========================================

Usage::

    python benchmarks/bench_correlate.py --size-mb 100 --marker-density 0.27
    python benchmarks/bench_correlate.py --data /work/bench-data/1000mb-5 --marker-density 0.05 --repeat 3
    python benchmarks/bench_correlate.py --data DIR --correlate-only --compare-with /tmp/main-checkout

``--compare-with`` also runs the correlate of another checkout of the code (before/after in one run,
alternating, its output checked to be byte-identical); ``--correlate-only`` leaves out the readers and export.

Machines here are noisy: quote the ratios (same run), not the seconds; CPU time is the
steadier figure when other work shares the cores.

The imsvalog commands and readers run with their modules' bytecode cached, as after any install (pip compiles
it; a first import writes it): ``PYTHONDONTWRITEBYTECODE``, set in some environments, would make
every run compile the package's sources again (about 0.25 s of CPU a run).  So the measured runs
keep their bytecode in a temporary folder (``PYTHONPYCACHEPREFIX``: nothing is written beside the
sources of either checkout) and each checkout's modules are imported once before the measurements.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import generate, generate_polevt  # noqa: E402

REGEX_PASS = r"""
import re, sys
rx = re.compile(r"(\d{4}/\d{2}/\d{2})[ \t]+(\d{2}:\d{2}:\d{2})[ \t]+GMT([+-][\d:]+)[ \t]+\[(\d+):(\d+)\][ \t]*(.*)")
n = 0
with open(sys.argv[1], "rb") as fh:
    for raw in fh:
        if rx.match(raw.decode("utf-8", "surrogateescape")):
            n += 1
print(n)
"""
READ_LOG_IMSS = "import sys, imsvalog; print(len(imsvalog.read_log_imss(sys.argv[1])))"
READ_CSV = (
    "import sys, csv, pandas as pd; "
    "print(len(pd.read_csv(sys.argv[1], sep='\\t', header=None, quoting=csv.QUOTE_NONE, dtype=str, "
    "keep_default_na=False, names=range(41), encoding='utf-8', encoding_errors='surrogateescape')))"
)
READ_POLEVT = "import sys, imsvalog; print(len(imsvalog.read_polevt(sys.argv[1])))"


TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + sys), peak RSS in MB, stdout of one run.

    Peak RSS comes from GNU time when it is installed (``wait4`` of a child started by
    a big parent can report the parent's size), else from ``wait4``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as tf:
        run = [TIME, "-f", "%M", "-o", tf.name, *cmd] if TIME else cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(run, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {err.read()[-800:].decode(errors='replace')}")
        rss = int(tf.read().split()[-1]) / 1024 if TIME else ru.ru_maxrss / 1024
        return wall, ru.ru_utime + ru.ru_stime, rss, out.read().decode(errors="replace")


def best(cmd: list[str], repeat: int, env: dict[str, str] | None = None, cwd: str | None = None) -> tuple[float, float, float, str, float]:
    """Best wall, best CPU, highest peak RSS, the first run's output, worst wall."""
    runs = [measure(cmd, env, cwd) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs), runs[0][3], max(r[0] for r in runs)


def marker_share(log: Path) -> tuple[int, float]:
    from imsvalog.scan_sessions import MARKER_NEEDLES

    lines = markers = 0
    with open(log, "rb") as fh:
        for ln in fh:
            lines += 1
            markers += any(nd in ln for nd in MARKER_NEEDLES)
    return lines, markers / max(lines, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=100.0, help="size of the generated log.imss (default 100)")
    ap.add_argument("--marker-density", type=float, default=0.27, help="share of lines with session markers (0.27)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    ap.add_argument("--reader-mb", type=float, default=20.0, help="slice of the log for read_log_imss and export (20)")
    ap.add_argument("--polevt-mb", type=float, default=20.0, help="size of the polevt.imss for read_polevt (20)")
    ap.add_argument("--data", type=Path, help="use (or make, if missing) the data in this folder instead of a temporary one")
    ap.add_argument("--compare-with", type=Path, metavar="CODE",
                    help="a checkout of imsvalog (the folder holding its package) whose correlate runs too: before/after")
    ap.add_argument("--correlate-only", action="store_true", help="measure grep and correlate only")
    args = ap.parse_args()

    work = args.data.resolve() if args.data else Path(tempfile.mkdtemp(prefix="imsvalog-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="imsvalog-bench-out-"))
    try:
        log, pol = work / "log.imss.20240312.0001", work / "polevt.imss.20240312.0001"
        t0 = time.perf_counter()
        if not (log.exists() and pol.exists()):
            generate(work, args.size_mb, args.marker_density)
        big_pol = tmp / "polevt" / "polevt.imss.20240312.0001"  # not in the data folder: correlate would read it
        generate_polevt(big_pol, args.polevt_mb)
        slice_path = tmp / "slice" / "log.imss.20240312.0001"
        slice_path.parent.mkdir()
        with open(log, "rb") as src, open(slice_path, "wb") as dst:
            want = int(args.reader_mb * 1e6)
            dst.write(src.read(want) + src.readline())
        size, ssize, psize = log.stat().st_size, slice_path.stat().st_size, big_pol.stat().st_size
        lines, share = marker_share(log)
        with open(log, "rb") as fh:
            asf = sum(ln.count(b"AntiSpoofFilter") for ln in fh)
        events = sum(1 for _ in open(pol, "rb"))
        print(f"data: {size / 1e6:,.0f} MB log.imss, {lines:,} lines, {share:.0%} with session markers, "
              f"{asf:,} AntiSpoofFilter lines, {events:,} spoof policy events (ready in {time.perf_counter() - t0:.0f} s)")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

        py = sys.executable
        env = {**os.environ, "LC_ALL": "C"}
        grep = shutil.which("grep") or "grep"
        rows: list[tuple[str, str, tuple[float, float, float, str, float], str, tuple[float, float, float, str, float] | None]] = []

        g = best([grep, "-c", "-F", "AntiSpoofFilter", str(log)], args.repeat, env)
        here = _with_bytecode(HERE.parent, tmp / "pycache", slice_path.parent)
        cmd = [py, "-m", "imsvalog", "correlate", str(log), str(pol), "--format", "jsonl"]
        if args.compare_with:  # alternate the two, so that both see the same load; run where no package
            # folder is (``python -m`` puts the working directory before PYTHONPATH)
            other = _with_bytecode(args.compare_with.resolve(), tmp / "pycache", slice_path.parent)
            pairs = [(measure(cmd, other, str(tmp)), measure(cmd, here, str(tmp))) for _ in range(args.repeat)]
            o = tuple(min(p[0][k] for p in pairs) for k in range(3)) + (pairs[0][0][3], max(p[0][0] for p in pairs))
            c = tuple(min(p[1][k] for p in pairs) for k in range(2)) + (max(p[1][2] for p in pairs), pairs[0][1][3],
                                                                        max(p[1][0] for p in pairs))
            if o[3] != c[3]:
                raise SystemExit(f"correlate of {args.compare_with} and of this checkout gave different output")
        else:
            c = best(cmd, args.repeat, here)
        c1 = best(cmd, args.repeat, {**here, "IMSVALOG_WORKERS": "1"})
        if c1[3] != c[3]:
            raise SystemExit("correlate with one process and with two gave different output")
        rows.append(("grep -c -F AntiSpoofFilter", f"{size / 1e6:,.0f} MB log", g, "", None))
        if args.compare_with:
            rows.append((f"correlate of {args.compare_with}", f"{size / 1e6:,.0f} MB log", o, "grep", g))  # type: ignore[arg-type]
        rows.append((f"imsvalog correlate ({c[3].count(chr(10)):,} rows)", f"{size / 1e6:,.0f} MB log", c, "grep", g))  # type: ignore[arg-type]
        if args.compare_with:
            rows.append(("  the same against the other checkout", f"{size / 1e6:,.0f} MB log", c, "other", o))  # type: ignore[arg-type]
        rows.append(("the same, IMSVALOG_WORKERS=1", f"{size / 1e6:,.0f} MB log", c1, "grep", g))
        if args.correlate_only:
            _table(rows, {"log": size}, args.repeat)
            return
        r = best([py, "-c", REGEX_PASS, str(slice_path)], args.repeat)
        rl = best([py, "-c", READ_LOG_IMSS, str(slice_path)], args.repeat, here, str(tmp))  # imsvalog's bytecode cached
        rows.append(("one compiled regex, every line", f"{ssize / 1e6:,.0f} MB slice", r, "", None))
        rows.append(("read_log_imss", f"{ssize / 1e6:,.0f} MB slice", rl, "regex", r))
        rc = best([py, "-c", READ_CSV, str(big_pol)], args.repeat)
        rp = best([py, "-c", READ_POLEVT, str(big_pol)], args.repeat, here, str(tmp))
        rows.append(("pandas.read_csv(sep='\\t')", f"{psize / 1e6:,.0f} MB polevt", rc, "", None))
        rows.append(("read_polevt", f"{psize / 1e6:,.0f} MB polevt", rp, "read_csv", rc))
        shutil.copy(pol, slice_path.parent / pol.name)
        ex = best([py, "-m", "imsvalog", "export", str(slice_path.parent), "--to", str(tmp / "lake")], args.repeat, here, str(tmp))
        rows.append(("imsvalog export (records + correlate)", f"{ssize / 1e6:,.0f} MB slice", ex, "", None))

        _table(rows, {"log": size, "slice": ssize, "polevt": psize}, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.data is None:
            shutil.rmtree(work, ignore_errors=True)


#: the standard modules of the second process, which a small correlate does not start
_WARM = ("import multiprocessing.connection, multiprocessing.popen_fork, multiprocessing.process, queue, threading, "
         "concurrent.futures.process")
#: the modules of the DataFrame readers and of export, which correlate does not import
_WARM_READERS = "import imsvalog.frames, imsvalog.columns, imsvalog.imss_cut, imsvalog.readers, imsvalog.export"


def _with_bytecode(code: Path, cache: Path, small: Path) -> dict[str, str]:
    """The environment for the imsvalog of checkout ``code``, the bytecode of what its correlate imports
    written once into ``cache`` by a correlate of the small folder ``small`` (see the docstring)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(code)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    for warm in ([sys.executable, "-m", "imsvalog", "correlate", str(small), "--format", "jsonl"], [sys.executable, "-c", _WARM],
                 [sys.executable, "-c", _WARM_READERS]):
        done = subprocess.run(warm, env=env, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:  # its warnings (the small folder has no polevt) are not the table's business; a failure is
            raise SystemExit(f"warming {code} failed ({done.returncode}): {done.stderr.strip()}")
    return env


def _table(rows: list, sizes: dict[str, int], repeat: int) -> None:
    print()
    print(f"(best of {repeat}; worst wall in brackets; ratios of the best figures)")
    print("| what | input | wall s | CPU s | MB/s (wall) | peak RSS MB | ratio (wall / CPU) |")
    print("|---|---|---:|---:|---:|---:|---|")
    for what, inp, m, base_name, base in rows:
        mb = next(v for k, v in sizes.items() if k in inp) / 1e6
        ratio = f"{m[0] / base[0]:.2f}x / {m[1] / base[1]:.2f}x {base_name}" if base else "1 (baseline)" if not what.startswith("imsvalog export") else ""
        print(f"| {what} | {inp} | {m[0]:.2f} ({m[4]:.2f}) | {m[1]:.2f} | {mb / m[0]:,.0f} | {m[2]:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
