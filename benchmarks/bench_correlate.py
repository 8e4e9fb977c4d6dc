"""Throughput of `imsvalog correlate` and of the readers, as ratios against baselines measured in the same run.

Generates a realistic log.imss/polevt.imss pair of a given size (many scanner
threads interleaved, mostly generic debug lines, a share of messages with an
AntiSpoofFilter trace and a policy event), then times:

* baseline: ``grep -c AntiSpoofFilter`` on the log (what an engineer does by hand)
* ``imsvalog correlate LOG POLEVT --format jsonl`` (the whole command, process start included)
* baseline: one compiled regex over every line of a slice of the log, in Python
* the full reader (``iter_records``: every line to a record) on the same slice

Usage::

    python benchmarks/bench_correlate.py --size-mb 100
    python benchmarks/bench_correlate.py --size-mb 20 --repeat 3 --keep benchmarks/out

Machines here are noisy: quote the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOC = "[/home/autobuild/IMSx-TW_9.1/Application/src/daemon/src/TmIsScan.cpp:TmIsScan::_ruleIsTriggered:4260]"
GENERIC = [
    "[DEBUG]in convertUnicodeToString, source.length = {n}",
    "[DEBUG]TmIsScan::scanMessage: message size {n} bytes, 1 recipients",
    "[DEBUG]CTmMsgHelper::getHeaderValue: header name=Subject, length={n}",
    "[DEBUG]ScanEngine::scanBuffer: vsapi ret=0, virus count=0, elapsed {n} us",
    "[DEBUG]SpamFilter::getScore: score=0.{n}, threshold=6.000000",
    "[DEBUG]DkimFilter::verify: no DKIM-Signature header",
    "[DEBUG]ContentFilter::matchKeyword: expression list {n} not matched",
    "[DIAGNOSTIC]TmIsPolicy::loadRoute: route {n} matched sender and recipients",
    "filter SpamFilter isTriggered returned false " + LOC,
    "filter ContentFilter isTriggered returned false " + LOC,
]


def _line(t: float, thread: str, body: str) -> str:
    lt = time.gmtime(t)
    return f"{time.strftime('%Y/%m/%d %H:%M:%S', lt)} GMT+09:00 [{thread}] {body}\n"


def generate(out: Path, size_mb: float, noise: int = 8, seed: int = 7) -> tuple[Path, Path, int]:
    """Write log.imss and polevt.imss of about ``size_mb`` MB; returns their paths and the spoof count."""
    rng = random.Random(seed)
    log = out / "log.imss.20240312.0001"
    pol = out / "polevt.imss.20240312.0001"
    target = int(size_mb * 1_000_000)
    threads = [f"28639:{4098483968 + i * 4096}" for i in range(24)]
    t = 1710201600.0
    written = 0
    spoofs = 0
    msg = 0
    with open(log, "w") as fh, open(pol, "w") as ph:
        while written < target:
            # a burst of messages on several threads, lines interleaved round-robin
            batch = []
            for th in rng.sample(threads, 4):
                msg += 1
                qid = f"{rng.getrandbits(40):010X}"
                iid = f"{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}"
                lines = [
                    "Info: Accept connection from client [127.0.0.1]",
                    f">>> Message-ID : <{msg}.{qid}@mx.example.com>",
                    "Start Rule Set Retrieval spent 0 ms",
                ]
                spoof = rng.random() < 0.05
                for rule in range(1, 9):
                    lines.append(f"Running ruleId:{rule}; version:3, numFilters:1, numActions:1")
                    lines += [rng.choice(GENERIC).format(n=rng.randint(1, 99999)) for _ in range(rng.randint(noise // 2, noise * 3 // 2))]
                    if spoof and rule == 5:
                        ip = f"203.0.113.{rng.randint(1, 254)}"
                        lines += [
                            "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                            f"from mx1.example.com (mx1.example.com [198.51.100.25])\tby imsva.example.com (Postfix) with ESMTP id {qid}\tfor <b@example.com>; Tue, 12 Mar 2024 09:15:00 +0900",
                            "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.25",
                            "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                            f"from relay.example.net (relay.example.net [{ip}]) by mx1.example.com (Postfix) with ESMTPS id 1{qid[1:]}; Tue, 12 Mar 2024 09:14:59 +0900",
                            f"[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:{ip}",
                            f"[DEBUG]AntiSpoofFilter: Get 2 IP address from received header. 198.51.100.25,{ip},",
                            "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
                            "filter AntiSpoofFilter isTriggered returned true " + LOC,
                            "push ruleID.ruleVer=5.3 into executed rule list",
                        ]
                    elif rule == 5:
                        lines += [
                            "[DEBUG]AntiSpoofFilter: sender domain and recipient domain are different",
                            "filter AntiSpoofFilter isTriggered returned false " + LOC,
                        ]
                lines += [
                    "Final action 0: QuarantineAction" if spoof else "Final action 0: DeliverAction",
                    f"Scan finished for {iid}, scanned 1 times",
                ]
                batch.append((th, lines))
                if spoof:
                    spoofs += 1
                    fields = [time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(t)) + " GMT+09:00", iid, "a@example.com",
                              "b@example.com", "quarterly report", "1", "Spoofing message", "0000010000000000", "",
                              "4.5", "01000000000000000", "0.000000", "0", "0", "", "", "", "", "1", "15", "0", "0",
                              f"<{msg}.{qid}@mx.example.com>"] + ["0"] * 17
                    ph.write("\t".join(fields) + "\n")
            longest = max(len(ls) for _, ls in batch)
            for i in range(longest):
                for th, ls in batch:
                    if i < len(ls):
                        s = _line(t, th, ls[i])
                        fh.write(s)
                        written += len(s)
            t += 1.0
    return log, pol, spoofs


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-500:]}")
    return dt, r.stdout


def best(cmd: list[str], repeat: int) -> tuple[float, str]:
    runs = [timed(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[0][1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=100.0, help="size of the generated log.imss (default 100)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    ap.add_argument("--reader-mb", type=float, default=10.0, help="slice for the reader benchmark (default 10)")
    ap.add_argument("--noise", type=int, default=8,
                    help="generic debug lines per rule run, on average (default 8); real debug logs are noisier")
    ap.add_argument("--keep", type=Path, help="write the generated files here and keep them")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="imsvalog-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        log, pol, spoofs = generate(work, args.size_mb, args.noise)
        size = log.stat().st_size
        n_lines = sum(1 for _ in open(log, "rb"))
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from imsvalog.scan_sessions import MARKER_NEEDLES

        with open(log, "rb") as fh:
            markers = sum(1 for ln in fh if any(nd in ln for nd in MARKER_NEEDLES))
        print(f"generated {size / 1e6:.1f} MB log.imss ({n_lines:,} lines, {markers / n_lines:.0%} carry session markers), "
              f"{spoofs} spoof events, in {time.perf_counter() - t0:.1f} s")

        grep = shutil.which("grep")
        if grep is None:
            raise SystemExit("grep not found")
        g, g_out = best([grep, "-c", "AntiSpoofFilter", str(log)], args.repeat)
        c, c_out = best([sys.executable, "-m", "imsvalog", "correlate", str(log), str(pol), "--format", "jsonl"], args.repeat)
        rows = c_out.count("\n")
        print(f"grep -c AntiSpoofFilter     {g:8.3f} s  {size / g / 1e6:8.1f} MB/s   ({g_out.strip()} lines)")
        print(f"imsvalog correlate          {c:8.3f} s  {size / c / 1e6:8.1f} MB/s   ({rows} rows)")
        print(f"ratio correlate / grep      {c / g:8.1f} x")

        # readers: a slice, against one compiled regex per line in Python
        from imsvalog.readers import iter_records

        slice_path = work / "slice" / "log.imss.20240312.0001"
        slice_path.parent.mkdir(exist_ok=True)
        with open(log, "rb") as src, open(slice_path, "wb") as dst:
            dst.writelines(src.readline() for _ in range(int(args.reader_mb * 1e6 / 150)))
        ssize = slice_path.stat().st_size
        rx = re.compile(r"(\d{4}/\d{2}/\d{2})[ \t]+(\d{2}:\d{2}:\d{2})[ \t]+GMT([+-][\d:]+)[ \t]+\[(\d+):(\d+)\][ \t]*(.*)")

        def regex_pass() -> float:
            t1 = time.perf_counter()
            n = 0
            with open(slice_path, "rb") as fh:
                for raw in fh:
                    if rx.match(raw.decode("utf-8", "surrogateescape")):
                        n += 1
            return time.perf_counter() - t1

        def reader_pass() -> float:
            t1 = time.perf_counter()
            for _ in iter_records([slice_path]):
                pass
            return time.perf_counter() - t1

        r0 = min(regex_pass() for _ in range(args.repeat))
        r1 = min(reader_pass() for _ in range(args.repeat))
        print(f"one regex per line (python) {r0:8.3f} s  {ssize / r0 / 1e6:8.1f} MB/s   ({ssize / 1e6:.1f} MB slice)")
        print(f"iter_records (every line)   {r1:8.3f} s  {ssize / r1 / 1e6:8.1f} MB/s")
        print(f"ratio reader / regex        {r1 / r0:8.1f} x")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
