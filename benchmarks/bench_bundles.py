"""Reading log.imss out of an encrypted CDT zip, against `unzip -p -P | grep -c -F` in the same run.

Builds a log.imss of the given size (the generator of bench_correlate.py), packs
it in password-protected zips (ZipCrypto, which Info-ZIP unzip reads, and AES),
then times, each as its own process (best of --repeat), with its peak memory:

* baseline: ``unzip -p -P PASSWORD bundle.zip MEMBER | grep -c -F AntiSpoofFilter``
* imsvalog: the member's lines holding ``AntiSpoofFilter`` through imsvalog's bundle
  reader (``sources.iter_matching_lines`` on the bundle member, libarchive underneath),
  from the ZipCrypto zip and from the AES zip
* for reference: the same on the unpacked file, and Python's ``zipfile`` (pure-Python
  ZipCrypto) on a slice (``--zipfile-mb``), scaled to the full size

Usage::

    python benchmarks/bench_bundles.py --size-mb 100
    python benchmarks/bench_bundles.py --size-mb 1000 --repeat 2

The goal: imsvalog from the encrypted zip costs at most 2x the baseline.  Machines
here are noisy: quote the ratios.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_correlate import generate  # noqa: E402

PASSWORD = "bench-Passw0rd"
MEMBER = "IMSVA/LogFile/Event3/log.imss.20240312.0001"

READ_MEMBER = """
import sys
from pathlib import Path
from imsvalog import bundles
from imsvalog.sources import discover, iter_matching_lines
with bundles.options(sys.argv[2]):
    files = [f for f in discover([sys.argv[1]]).files if f.kind == "imss"]
    print(sum(1 for _ in iter_matching_lines(files[0], [b"AntiSpoofFilter"])))
"""

READ_FILE = """
import sys
from imsvalog.sources import discover, iter_matching_lines
f = discover([sys.argv[1]]).files[0]
print(sum(1 for _ in iter_matching_lines(f, [b"AntiSpoofFilter"])))
"""

READ_ZIPFILE = """
import sys, zipfile
limit = int(sys.argv[3])
n = got = 0
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2], pwd=sys.argv[4].encode()) as fh:
    while got < limit and (block := fh.read(1 << 22)):
        got += len(block)
        n += block.count(b"AntiSpoofFilter")
print(n, got)
"""


def run(cmd: list[str]) -> tuple[float, int, str]:
    """Seconds, peak RSS in MB (the process and the children it waited for), stdout."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = p.stdout.read() if p.stdout else ""
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return dt, usage.ru_maxrss // 1024, out.strip()


def best(cmd: list[str], repeat: int) -> tuple[float, int, str]:
    runs = [run(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def make_zip(out: Path, log: Path, encryption: str) -> Path:
    import libarchive  # type: ignore[import-untyped]

    with libarchive.file_writer(str(out), "zip", options=f"encryption={encryption}", passphrase=PASSWORD) as w:
        size = log.stat().st_size
        with open(log, "rb") as fh:
            w.add_file_from_memory(MEMBER, size, iter(lambda: fh.read(1 << 22), b""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--zipfile-mb", type=float, default=20, help="slice read with Python's zipfile (it is slow)")
    ap.add_argument("--keep", type=Path, help="keep the generated files here")
    args = ap.parse_args()
    if not shutil.which("unzip"):
        raise SystemExit("the baseline needs Info-ZIP unzip (apt-get install unzip)")
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench_bundles_"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        log, _, _ = generate(tmp, args.size_mb)
        size = log.stat().st_size
        zc = make_zip(tmp / "CDT-20240312-101500.zip", log, "zipcrypt")
        aes = make_zip(tmp / "CDT-20240312-101501.zip", log, "aes256")
        py = sys.executable
        base_cmd = ["sh", "-c", f"unzip -p -P {PASSWORD} {zc} {MEMBER} | grep -c -F AntiSpoofFilter"]
        rows = []
        base = best(base_cmd, args.repeat)
        rows.append(("baseline: unzip -p -P, grep -c -F", *base))
        rows.append(("imsvalog, ZipCrypto zip", *best([py, "-c", READ_MEMBER, str(zc), PASSWORD], args.repeat)))
        rows.append(("imsvalog, AES-256 zip", *best([py, "-c", READ_MEMBER, str(aes), PASSWORD], args.repeat)))
        rows.append(("imsvalog, unpacked file", *best([py, "-c", READ_FILE, str(log)], args.repeat)))
        limit = int(min(args.zipfile_mb, args.size_mb) * 1_000_000)
        t, mem, out = run([py, "-c", READ_ZIPFILE, str(zc), MEMBER, str(limit), PASSWORD])
        scaled = t * size / max(1, int(out.split()[1]))
        rows.append((f"stdlib zipfile (ZipCrypto), {limit / 1e6:g} MB scaled", scaled, mem, "-"))
        print(f"log.imss {size / 1e6:,.0f} MB, compressed {zc.stat().st_size / 1e6:,.1f} MB; best of {args.repeat}")
        print("| reader | seconds | x baseline | peak RSS MB | lines with AntiSpoofFilter |")
        print("|---|---|---|---|---|")
        for name, t, mem, out in rows:
            print(f"| {name} | {t:.2f} | {t / base[0]:.2f} | {mem} | {out} |")
        counts = {r[3] for r in rows if r[3] != "-"}
        if len(counts) != 1:
            raise SystemExit(f"readers disagree on the count: {counts}")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
