"""correlate on logs where many threads' runs overlap: does its cost stay near-linear in the input?

A run is one thread's lines from an Accept line to its next; correlate cuts the lines of each run that holds
an AntiSpoofFilter evaluation.  Cut one run at a time, N overlapping runs cost N times their span: quadratic.
This writes logs of N threads (``--threads``, several values) in one of these shapes (``--mode``):

- ``one``: each thread one scan, its lines interleaved with every other thread's (every run spans to the
  end of the input, and all settle at its end);
- ``two``: each thread two scans, every thread's second Accept line after all threads' first scans (the
  runs settle one by one during the stream, each spanning most of the file);
- ``stale``: the ``one`` threads under an old pid, then ``--fill-mb`` of short scans of a restarted
  IMSVA (another pid) that never close the old runs: they stay open to the end of the input and are read
  again across it, cut into ``--files`` rotated files (``log.imss.20240315.0001``, ...).

A few hostile lines are in every log: a subject that holds another thread's tag, a line with two tags, a line
that does not parse (a reject).  Each log is timed (CPU of the whole ``imsvalog correlate ... --format jsonl``,
in its own process, best of ``--repeat``) against ``grep -c -F AntiSpoofFilter`` on it in the same run, and,
with ``--compare-with CHECKOUT``, against that checkout's correlate, alternating (its output checked to be
byte-identical).  Prints one table; quote the ratios, not the seconds (the machine is shared and noisy)::

    python benchmarks/bench_threads_many.py --threads 500 1000 2000 4000 --mode one
    python benchmarks/bench_threads_many.py --threads 1000 4000 --mode stale --files 3 --compare-with /tmp/main
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = "AntiSpoofFilter"


def _scan(pid: int, tid: int, i: int, second: bool = False) -> list[str]:
    """The lines of one scan of thread ``[pid:tid]`` with one Received header (``i`` makes its addresses)."""
    th = f"[{pid}:{tid}]"
    ip = f"203.{1 if second else 0}.{i // 250 % 250}.{i % 250 + 1}"
    return [
        f"{th} Info: Accept connection from client [10.0.0.1]",
        f"{th} Running ruleId:12; version:2, numFilters:1, numActions:1",
        f"{th} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from relay.example.net "
        f"(relay.example.net [{ip}]) by imsva.example.com (Postfix) with ESMTP id C{i:06d}; Fri, 15 Mar 2024 10:00:04 -0500",
        f"{th} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:{ip}",
        f"{th} [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. {ip},",
        f"{th} [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        f"{th} Final action 0: QuarantineAction",
    ]


def _interleaved(scans: list[list[str]]) -> list[str]:
    return [s[k] for k in range(len(scans[0])) for s in scans]


def _hostile(pid: int, n: int) -> list[str]:
    """Lines of thread 0 that name thread 1's tag in their text (one of them twice, with a marker after)."""
    a, b = f"[{pid}:7000]", f"[{pid}:{7000 + min(1, n - 1)}]"
    return [
        f"{a} Info: Message-ID: <x@example.com> subject {b} Final action",
        f"{a} {b} Running ruleId:3; version:1, numFilters:1, numActions:1",
        f"{b} Final action noise {a} here",
    ]


def write_logs(n: int, mode: str, out: Path, fill_mb: float = 20, files: int = 1) -> list[Path]:
    """The log.imss files of ``n`` threads in ``mode`` (see the module's doc) under ``out``."""
    pid = 11111 if mode == "stale" else 1000
    lines = _interleaved([_scan(pid, 7000 + i, i) for i in range(n)])
    lines[n:n] = _hostile(pid, n)  # after every thread's Accept line
    if mode == "two":
        lines += _interleaved([_scan(pid, 7000 + i, i, second=True) for i in range(n)])
    if mode == "stale":  # a restarted IMSVA: short scans of 40 threads of another pid, one after another
        k = 0
        size = sum(map(len, lines))
        while size < fill_mb * 1e6:
            scan = _scan(28639, 100 + k % 40, k, second=True)
            lines += scan
            size += sum(map(len, scan)) + 31 * len(scan)
            k += 1
    lines.insert(len(lines) // 2, "2024/13/45 99:99:99 GMT-05:00 [1:2] Final action 0: a line that does not parse")
    out.mkdir(parents=True, exist_ok=True)
    per = -(-len(lines) // files)
    paths = []
    for f in range(files):
        path = out / f"log.imss.20240315.{f + 1:04d}"
        part = lines[f * per : (f + 1) * per]
        with open(path, "w") as fh:
            for j, text in enumerate(part, f * per):
                sec = j * 3600 // len(lines)
                if not text.startswith("2024/13"):
                    text = f"2024/03/15 10:{sec // 60:02d}:{sec % 60:02d} GMT-05:00 {text}"
                fh.write(text + "\n")
        paths.append(path)
    return paths


def _cpu(cmd: list[str], cwd: str | None = None, env: dict[str, str] | None = None) -> tuple[float, bytes]:
    """CPU seconds (user + system) of the command and its children, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, out


def _measure(paths: list[Path], a: argparse.Namespace, env: dict[str, str]) -> tuple[float, float, float | None]:
    """grep's, this checkout's and the other's correlate CPU seconds on ``paths``, best of ``--repeat``
    (the two correlates alternating, their outputs checked to be the same)."""
    cmd = [sys.executable, "-m", "imsvalog", "correlate", *map(str, paths), "--format", "jsonl"]
    grep = min(_cpu(["grep", "-c", "-F", MARKER, *map(str, paths)], env=dict(env, LC_ALL="C"))[0] for _ in range(a.repeat))
    this, other = [], []
    for _ in range(a.repeat):
        t, out = _cpu(cmd, cwd=str(HERE.parent), env=env)
        this.append(t)
        if a.compare_with:
            t, out2 = _cpu(cmd, cwd=a.compare_with, env=env)
            other.append(t)
            if out != out2:
                raise SystemExit(f"{paths[0].parent}: the outputs of the two checkouts differ")
    return grep, min(this), min(other) if other else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    ap.add_argument("--mode", choices=["one", "two", "stale"], default="one")
    ap.add_argument("--fill-mb", type=float, default=20, help="stale: MB of the restarted IMSVA's scans")
    ap.add_argument("--files", type=int, default=1, help="stale: rotated files to cut the log into")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compare-with", help="another checkout of imsvalog: its correlate, alternating")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="imsvalog-pyc-"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else every run compiles every module again
    print(f"mode {a.mode}; CPU seconds, best of {a.repeat}; 'ms/thread': (CPU - CPU of the same shape with 2 threads)"
          " / (threads - 2), constant if the cost is linear in the threads")
    head = f"{'threads':>8} {'MB':>7} {'grep s':>7} {'this s':>8} {'x grep':>7} {'ms/thread':>10}"
    if a.compare_with:
        head += f" {'other s':>8} {'x grep':>7} {'ms/thread':>10} {'this/other':>11}"
    print(head)
    with tempfile.TemporaryDirectory(prefix="threads-many-") as tmp:
        two = write_logs(2, a.mode, Path(tmp) / "2", a.fill_mb, a.files)
        _measure(two, argparse.Namespace(**{**vars(a), "repeat": 1}), env)  # each checkout's bytecode written
        _, base_this, base_other = _measure(two, a, env)
        for n in a.threads:
            paths = write_logs(n, a.mode, Path(tmp) / str(n), a.fill_mb, a.files)
            mb = sum(p.stat().st_size for p in paths) / 1e6
            grep, this, other = _measure(paths, a, env)
            g = max(grep, 1e-3)
            row = f"{n:>8} {mb:>7.1f} {grep:>7.3f} {this:>8.2f} {this / g:>7.0f} {(this - base_this) / (n - 2) * 1e3:>10.2f}"
            if other is not None and base_other is not None:
                row += (f" {other:>8.2f} {other / g:>7.0f} {(other - base_other) / (n - 2) * 1e3:>10.2f}"
                        f" {this / other:>11.2f}")
            print(row, flush=True)


if __name__ == "__main__":
    main()
