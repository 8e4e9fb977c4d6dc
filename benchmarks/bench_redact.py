"""How fast `imsvalog redact` is, against baselines measured in the same run.

Generates a realistic log.imss/polevt pair (benchmarks/generate.py) and times, best of
``--repeat``:

* ``sed -E`` replacing every IPv4 address (a naive anonymiser: one regex, C speed);
* a Python loop that reads every line and writes it back (the floor for any per-line
  Python tool);
* ``imsvalog.redact.redact_files`` (both passes: learning the case, then writing).

Prints seconds, MB/s and the ratios against both baselines.

Usage::

    .venv/bin/python benchmarks/bench_redact.py --size-mb 20
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

from imsvalog.redact import Redactor, redact_files  # noqa: E402


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-redact-"))
    try:
        log, pol, _ = generate(work / "in", args.size_mb)
        size = log.stat().st_size + pol.stat().st_size
        lines = sum(1 for _ in open(log, "rb")) + sum(1 for _ in open(pol, "rb"))

        def sed() -> None:
            with open(work / "sed.out", "wb") as out:
                subprocess.run(["sed", "-E", r"s/[0-9]{1,3}(\.[0-9]{1,3}){3}/x.x.x.x/g", str(log), str(pol)], stdout=out, check=True)

        def copy() -> None:
            for src in (log, pol):
                with open(src, "rb") as fh, open(work / ("copy-" + src.name), "wb") as out:
                    for raw in fh:
                        out.write(raw.decode("utf-8", "surrogateescape").encode("utf-8", "surrogateescape"))

        n = 0

        def redact() -> None:
            nonlocal n
            n += 1
            redact_files([work / "in"], work / f"out{n}", Redactor(b"bench-key-bench-key-bench-key-32"))

        t_sed, t_copy, t_red = best(sed, args.repeat), best(copy, args.repeat), best(redact, args.repeat)
        mb = size / 1e6
        print(f"input: {mb:.1f} MB, {lines:,} lines (log.imss + polevt.imss), best of {args.repeat}")
        print(f"{'what':44} {'seconds':>8} {'MB/s':>7}")
        for name, t in (("sed -E (IPv4 only, a naive anonymiser)", t_sed), ("Python read+write every line", t_copy),
                        ("imsvalog redact (two passes)", t_red)):
            print(f"{name:44} {t:8.2f} {mb / t:7.1f}")
        print(f"redact = {t_red / t_sed:.0f}x sed, {t_red / t_copy:.1f}x the Python line copy")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
