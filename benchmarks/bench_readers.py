"""The DataFrame readers against their baselines at several sizes, printed as one table.

Each measurement runs in its own process (wall time, CPU time and peak RSS), best of
``--repeat``; each reader is a ratio to its own baseline measured in the same run:

==========================================  =========================================
measurement                                 compared with
==========================================  =========================================
one compiled ``re`` parsing every line of    the baseline of read_log_imss
a slice of log.imss (in Python)
``imsvalog.read_log_imss`` on the slice      the regex (goal: within 1.5x, >= 50 MB/s); a slice of
                                            32 MB or more is read by two processes
the same with ``IMSVALOG_WORKERS=1``         the regex (one process, as the regex)
``pandas.read_csv(sep="\\t")`` of a          the baseline of read_polevt
polevt.imss
``imsvalog.read_polevt`` on the same         read_csv (goal: within 1.5x)
``imsvalog parse --format jsonl`` of a       the baseline of parse
slice (``--parse-mb``), IMSVALOG_WORKERS=1
the same with two processes (slices of      parse in one process (outputs compared byte
32 MB or more)                              for byte)
==========================================  =========================================

Slices are cut (at a line end) from the log.imss in ``--data`` (generated there with
``--marker-density`` if missing, at the largest ``--log-mb``); polevt files are generated.
Both processes import what they need: the readers' figures include importing pandas
and imsvalog (about 0.6 s CPU), which weighs most at small sizes.

Usage::

    python benchmarks/bench_readers.py --log-mb 20 100 200 --polevt-mb 20 100 --repeat 3
    python benchmarks/bench_readers.py --log-mb 100 --polevt-mb 100 --repeat 4 --compare-with /tmp/main-checkout

``--compare-with`` also runs the readers of another checkout of the code (the folder holding its
package), alternating with this one's so that both see the same load (before/after in one run):
``read_log_imss`` with one process, with two (slices of 32 MB or more) and ``read_polevt``, each pair's
frames of equal length.

CPU time counts every process of a measurement (the reader's worker is waited for, so its time is
the reader's); peak RSS is that of the largest process.  Two processes help the wall time only when
the second core is free.

imsvalog runs with its modules' bytecode cached, as after any install (see ``bench_correlate.py``):
``PYTHONDONTWRITEBYTECODE``, set in some environments, would make every reader run compile the
package's sources again (about 0.2 s of CPU, a tenth of ``read_log_imss`` at 100 MB), which the
baselines (the standard library, pandas) do not pay.  Each checkout's readers run once on small inputs
before the measurements, their bytecode kept in a temporary folder (``PYTHONPYCACHEPREFIX``).

Machines here are noisy: quote the ratios (same run), not the seconds; CPU time is the
steadier figure when other work shares the cores.
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

from bench_correlate import _WARM, READ_CSV, READ_LOG_IMSS, READ_POLEVT, REGEX_PASS, best, measure  # noqa: E402
from generate import generate, generate_polevt  # noqa: E402


def cut(src: Path, dst: Path, size_mb: float) -> Path:
    """The first ``size_mb`` MB of ``src`` up to a line end."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fh, open(dst, "wb") as out:
        left = int(size_mb * 1e6)
        while left > 0:
            piece = fh.read(min(left, 1 << 24))
            if not piece:
                break
            out.write(piece)
            left -= len(piece)
        out.write(fh.readline())
    return dst


def with_bytecode(code: Path, cache: Path, warm: list[list[str]], cwd: Path) -> dict[str, str]:
    """The environment for the imsvalog of checkout ``code`` (``PYTHONPATH``), its bytecode written once into
    ``cache`` by running the ``warm`` commands there (in ``cwd``, where no package is)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "IMSVALOG_WORKERS")}
    env["PYTHONPATH"] = str(code.resolve())
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    for cmd in warm:
        done = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            raise SystemExit(f"warming {code} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return env


def alternating(cmd: list[str], other: dict[str, str], here: dict[str, str], repeat: int, env: dict[str, str],
                cwd: Path) -> tuple[tuple[float, float, float, str], tuple[float, float, float, str]]:
    """``cmd`` with the environment ``other`` (another checkout's package), then with ``here`` (this checkout's),
    each updated with ``env``, ``repeat`` times: the best of each (wall, CPU, highest peak RSS, output).  Run in
    ``cwd`` (no package there: ``python -c`` puts the working directory before ``PYTHONPATH``)."""
    pairs = [(measure(cmd, {**other, **env}, str(cwd)), measure(cmd, {**here, **env}, str(cwd))) for _ in range(repeat)]
    a, b = ([p[k] for p in pairs] for k in (0, 1))
    if a[0][3] != b[0][3]:
        raise SystemExit(f"{other['PYTHONPATH']} gave {a[0][3].strip()} rows, this checkout {b[0][3].strip()}")
    return ((min(r[0] for r in a), min(r[1] for r in a), max(r[2] for r in a), a[0][3]),
            (min(r[0] for r in b), min(r[1] for r in b), max(r[2] for r in b), b[0][3]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log-mb", type=float, nargs="*", default=[20.0], help="sizes of the log.imss slices (20; none: skip)")
    ap.add_argument("--polevt-mb", type=float, nargs="*", default=[20.0], help="sizes of the polevt.imss files (20; none: skip)")
    ap.add_argument("--parse-mb", type=float, nargs="*", default=[], help="sizes of the log.imss slices for `imsvalog parse` (none)")
    ap.add_argument("--marker-density", type=float, default=0.27, help="share of lines with session markers (0.27)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    ap.add_argument("--data", type=Path, help="folder with (or for) the log.imss to slice; a temporary one if not given")
    ap.add_argument("--compare-with", type=Path, metavar="CODE",
                    help="a checkout of imsvalog (the folder holding its package) whose readers run too: before/after")
    args = ap.parse_args()

    work = args.data or Path(tempfile.mkdtemp(prefix="imsvalog-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="imsvalog-bench-readers-"))
    try:
        log = work / "log.imss.20240312.0001"
        if not log.exists() and (args.log_mb or args.parse_mb):
            generate(work, max(args.log_mb + args.parse_mb), args.marker_density)
        py = sys.executable
        small_log = cut(log, tmp / "warm" / log.name, 1) if log.exists() else None
        small_pol = generate_polevt(tmp / "warm-polevt" / "polevt.imss.20240312.0001", 0.5)
        warm = [[py, "-c", READ_POLEVT, str(small_pol)], [py, "-c", _WARM]]
        if small_log is not None:
            warm += [[py, "-c", READ_LOG_IMSS, str(small_log)],
                     [py, "-m", "imsvalog", "parse", str(small_log), "--format", "jsonl", "-o", os.devnull]]
        here = with_bytecode(HERE.parent, tmp / "pycache", warm, tmp)
        other = with_bytecode(args.compare_with, tmp / "pycache", warm, tmp) if args.compare_with else here
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
        rows: list[tuple[str, float, tuple[float, float, float, str], str, tuple[float, float, float, str] | None]] = []
        for mb in args.log_mb:
            part = cut(log, tmp / f"log-{mb:g}" / log.name, mb)
            size = part.stat().st_size / 1e6
            r = best([py, "-c", REGEX_PASS, str(part)], args.repeat)
            rl = best([py, "-c", READ_LOG_IMSS, str(part)], args.repeat, env=here, cwd=str(tmp))
            r1 = best([py, "-c", READ_LOG_IMSS, str(part)], args.repeat, env={**here, "IMSVALOG_WORKERS": "1"}, cwd=str(tmp))
            for got in (rl, r1):
                if r[3] != got[3]:  # the regex fits every line of the generated log: both count every line
                    raise SystemExit(f"read_log_imss gave {got[3].strip()} rows, the regex {r[3].strip()} lines")
            rows += [("one compiled regex, every line", size, r, "", None), ("read_log_imss", size, rl, "regex", r),
                     ("read_log_imss, IMSVALOG_WORKERS=1", size, r1, "regex", r)]
            if args.compare_with:
                o, h = alternating([py, "-c", READ_LOG_IMSS, str(part)], other, here, args.repeat,
                                   {"IMSVALOG_WORKERS": "1"}, tmp)
                rows += [(f"  read_log_imss, one process, of {args.compare_with}", size, o, "regex", r),
                         ("  the same of this checkout, alternating", size, h, "other", o)]
                if part.stat().st_size >= 32 << 20:  # read by two processes (columns.PARALLEL_FROM)
                    o, h = alternating([py, "-c", READ_LOG_IMSS, str(part)], other, here, args.repeat, {}, tmp)
                    rows += [(f"  read_log_imss, two processes, of {args.compare_with}", size, o, "regex", r),
                             ("  the same of this checkout, alternating", size, h, "other", o)]
            part.unlink()
        for mb in args.parse_mb:  # jsonl written to a file; one process, then two, alternating
            part = cut(log, tmp / f"parse-{mb:g}" / log.name, mb)
            size = part.stat().st_size / 1e6
            outs = [tmp / "parse-1.jsonl", tmp / "parse-2.jsonl"]
            cmds = [[py, "-m", "imsvalog", "parse", str(part), "--format", "jsonl", "-o", str(o)] for o in outs]
            runs = [(measure(cmds[0], {**here, "IMSVALOG_WORKERS": "1"}, str(tmp)), measure(cmds[1], here, str(tmp)))
                    for _ in range(args.repeat)]
            if outs[0].read_bytes() != outs[1].read_bytes():
                raise SystemExit("parse by two processes wrote other bytes than by one")
            one, two = ((min(r[k][0] for r in runs), min(r[k][1] for r in runs), max(r[k][2] for r in runs), "") for k in (0, 1))
            rows += [("imsvalog parse --format jsonl, IMSVALOG_WORKERS=1", size, one, "", None),
                     ("imsvalog parse --format jsonl, two processes", size, two, "one process", one)]
            for o in outs:
                o.unlink()
            part.unlink()
        for mb in args.polevt_mb:
            pol = generate_polevt(tmp / f"polevt-{mb:g}" / "polevt.imss.20240312.0001", mb)
            size = pol.stat().st_size / 1e6
            rc = best([py, "-c", READ_CSV, str(pol)], args.repeat)
            rp = best([py, "-c", READ_POLEVT, str(pol)], args.repeat, env=here, cwd=str(tmp))
            rows += [("pandas.read_csv(sep='\\t')", size, rc, "", None), ("read_polevt", size, rp, "read_csv", rc)]
            if args.compare_with:
                o, h = alternating([py, "-c", READ_POLEVT, str(pol)], other, here, args.repeat, {}, tmp)
                rows += [(f"  read_polevt of {args.compare_with}", size, o, "read_csv", rc),
                         ("  the same of this checkout, alternating", size, h, "other", o)]
            pol.unlink()
        print(f"load average {os.getloadavg()[0]:.1f} at end")
        print()
        print("| what | input MB | wall s | CPU s | MB/s (wall / CPU) | peak RSS MB | ratio (wall / CPU) |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for what, mb, m, base_name, base in rows:
            d = 2 if base_name in ("other", "one process") else 1  # before/after: small differences
            ratio = f"{m[0] / base[0]:.{d}f}x / {m[1] / base[1]:.{d}f}x {base_name}" if base else "1 (baseline)"
            print(f"| {what} | {mb:,.0f} | {m[0]:.2f} | {m[1]:.2f} | {mb / m[0]:,.0f} / {mb / m[1]:,.0f} | {m[2]:,.0f} | {ratio} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.data is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - start:.0f} s)")
