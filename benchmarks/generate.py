"""Realistic synthetic IMSVA logs of a requested size and marker density, for the benchmarks.

Writes ``log.imss.20240312.0001`` and ``polevt.imss.20240312.0001``: scanner threads
interleaved, each message a full scan (Accept connection, Message-ID, rule runs,
generic debug lines, an AntiSpoofFilter check in rule 5, final action, Scan
finished); a share of messages (``--spoof-share``) carries a full AntiSpoofFilter
evaluation of two Received headers and a policy event.  ``--marker-density`` is the
share of lines that carry a session marker (what correlate's old reader paid for);
the generic debug lines are added to reach it.

Usage::

    python benchmarks/generate.py /work/bench-data/1g-27 --size-mb 1000 --marker-density 0.27
    python benchmarks/generate.py /tmp/x --size-mb 10 --rotate 10 --gzip 3   # ten rotated files, three gzipped
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
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
RULES = 8
#: marker lines of a message without an evaluation: accept, Message-ID, rule set start,
#: 8 rule runs, final action, scan finished (and 2 AntiSpoofFilter lines where the filter runs)
MARKERS_PER_MESSAGE = 13


def noise_for(density: float) -> float:
    """Generic lines per rule run that give ``density`` marker lines overall."""
    return MARKERS_PER_MESSAGE * (1 - density) / (RULES * density)


def generate(
    out: Path,
    size_mb: float,
    density: float = 0.27,
    seed: int = 7,
    spoof_share: float = 0.03,
    filter_share: float = 0.1,
    threads: int = 14,
) -> tuple[Path, Path, int]:
    """Write log.imss and polevt.imss of about ``size_mb`` MB into ``out``; returns their paths and the spoof count.

    ``spoof_share`` of the messages carry an AntiSpoofFilter evaluation (and a policy event);
    ``filter_share`` more run the filter, which stops at the domain check (two lines).
    The defaults follow the issue's 1 GB sample: 150 k messages, 40 k AntiSpoofFilter lines,
    4,596 traces.
    """
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    noise = noise_for(density)
    log = out / "log.imss.20240312.0001"
    pol = out / "polevt.imss.20240312.0001"
    target = int(size_mb * 1_000_000)
    names = [f"28639:{4098483968 + i * 4096}" for i in range(threads)]
    t = 1710201600
    written = 0
    spoofs = 0
    msg = 0
    with open(log, "w", buffering=1 << 20) as fh, open(pol, "w") as ph:
        while written < target:
            stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(t)) + " GMT+09:00"
            batch = []
            for th in rng.sample(names, 4):  # a burst of messages on several threads, lines interleaved
                msg += 1
                qid = f"{rng.getrandbits(40):010X}"
                iid = (
                    f"{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-"
                    f"8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}"
                )
                lines = [
                    "Info: Accept connection from client [127.0.0.1]",
                    f">>> Message-ID : <{msg}.{qid}@mx.example.com>",
                    "Start Rule Set Retrieval spent 0 ms",
                ]
                draw = rng.random()
                spoof = draw < spoof_share
                checked = draw < spoof_share + filter_share
                for rule in range(1, RULES + 1):
                    lines.append(f"Running ruleId:{rule}; version:3, numFilters:1, numActions:1")
                    k = round(noise * rng.uniform(0.5, 1.5))
                    lines += [rng.choice(GENERIC).format(n=rng.randint(1, 99999)) for _ in range(k)]
                    if spoof and rule == 5:
                        ip = f"203.0.113.{rng.randint(1, 254)}"
                        lines += [
                            "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                            "from mx1.example.com (mx1.example.com [198.51.100.25])\tby imsva.example.com (Postfix) "
                            f"with ESMTP id {qid}\tfor <b@example.com>; Tue, 12 Mar 2024 09:15:00 +0900",
                            "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.25",
                            "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                            f"from relay.example.net (relay.example.net [{ip}]) by mx1.example.com (Postfix) with ESMTPS "
                            f"id 1{qid[1:]}; Tue, 12 Mar 2024 09:14:59 +0900",
                            f"[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:{ip}",
                            f"[DEBUG]AntiSpoofFilter: Get 2 IP address from received header. 198.51.100.25,{ip},",
                            "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
                            "filter AntiSpoofFilter isTriggered returned true " + LOC,
                            "push ruleID.ruleVer=5.3 into executed rule list",
                        ]
                    elif rule == 5 and checked:
                        lines += [
                            "[DEBUG]AntiSpoofFilter: sender domain and recipient domain are different",
                            "filter AntiSpoofFilter isTriggered returned false " + LOC,
                        ]
                lines += [
                    "Final action 0: QuarantineAction" if spoof else "Final action 0: DeliverAction",
                    f"Scan finished for {iid}, scanned 1 times",
                ]
                batch.append((f"{stamp} [{th}] ", lines))
                if spoof:
                    spoofs += 1
                    fields = [stamp, iid, "a@example.com", "b@example.com", "quarterly report", "1", "Spoofing message",
                              "0000010000000000", "", "4.5", "01000000000000000", "0.000000", "0", "0", "", "", "", "",
                              "1", "15", "0", "0", f"<{msg}.{qid}@mx.example.com>"] + ["0"] * 17
                    ph.write("\t".join(fields) + "\n")
            longest = max(len(ls) for _, ls in batch)
            chunk = []
            for i in range(longest):
                for head, ls in batch:
                    if i < len(ls):
                        chunk.append(head + ls[i] + "\n")
            s = "".join(chunk)
            fh.write(s)
            written += len(s)
            t += 1
    return log, pol, spoofs


#: (rule, scanning-condition code, action code) of the policy events a busy appliance writes
_RULES = [
    ("Inbound Spam", "0100000000000000", "01000000000000000"),
    ("Spoofing message", "0000010000000000", "01000000000000000"),
    ("Inbound Attachment Regulation", "0010000000000000", "10000000001000000"),
    ("Graymail", "0000000000000010", "00000001000000000"),
    ("Virus Scan", "1000000000000000", "10000000000000000"),
    ("Web Reputation", "0000000001000000", "01000000001000000"),
]


def generate_polevt(path: Path, size_mb: float, seed: int = 11) -> Path:
    """A polevt.imss of about ``size_mb`` MB: a busy appliance's mix of rules, codes, recipients and subjects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    target = int(size_mb * 1_000_000)
    written, t = 0, 1710201600
    with open(path, "w", buffering=1 << 20) as fh:
        while written < target:
            stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(t)) + " GMT+09:00"
            t += rng.randint(0, 2)
            rule, cond, act = rng.choice(_RULES)
            iid = f"{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}"
            rcpts = ";".join(f"user{rng.randint(1, 5000)}@example.com" for _ in range(rng.choice((1, 1, 1, 2, 3))))
            fields = [stamp, iid, f"sender{rng.randint(1, 20000)}@example.org", rcpts,
                      rng.choice(("quarterly report", "Re: invoice 4711", "", "URGENT: password expiry", "Fwd: meeting  ")),
                      "1", rule, cond, "", f"{rng.uniform(1, 900):.6f}", act, f"{rng.uniform(0, 15):.6f}", "31", "2",
                      rng.choice(("", "", "", "video.mp4")), "", "", "", "1", "30", "0", "0",
                      f"<{rng.getrandbits(40):010x}@mx.example.org>"] + ["0"] * rng.choice((15, 16, 17, 18))
            line = "\t".join(fields) + "\n"
            fh.write(line)
            written += len(line)
    return path


def rotate(log: Path, out: Path, parts: int, gzipped: int = 0) -> list[Path]:
    """Cut ``log`` into ``parts`` rotated files at line ends (``.0001`` ...); the last ``gzipped`` are gzip-compressed.

    The cuts fall anywhere, so scans cross rotations as they do on an appliance.
    """
    out.mkdir(parents=True, exist_ok=True)
    size = log.stat().st_size
    step = size // parts + 1
    base = log.name.rsplit(".", 1)[0]
    made = []
    with open(log, "rb") as src:
        for i in range(parts):
            data = src.read(step)
            data += src.readline()
            if not data:
                break
            name = out / f"{base}.{i + 1:04d}"
            if i >= parts - gzipped:
                name = name.with_name(name.name + ".gz")
                with gzip.open(name, "wb", compresslevel=1) as g:
                    g.write(data)
            else:
                name.write_bytes(data)
            made.append(name)
    return made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="folder to write into")
    ap.add_argument("--size-mb", type=float, default=100.0)
    ap.add_argument("--marker-density", type=float, default=0.27, help="share of lines that carry a session marker")
    ap.add_argument("--spoof-share", type=float, default=0.03, help="share of messages with an AntiSpoofFilter evaluation")
    ap.add_argument("--filter-share", type=float, default=0.1,
                    help="share of messages where the filter stops at the domain check")
    ap.add_argument("--rotate", type=int, default=0, help="also cut the log into this many rotated files (in OUT/rotated)")
    ap.add_argument("--gzip", type=int, default=0, help="of the rotated files, gzip this many (the last ones)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    log, pol, spoofs = generate(
        args.out, args.size_mb, args.marker_density, spoof_share=args.spoof_share, filter_share=args.filter_share
    )
    print(f"wrote {log} ({log.stat().st_size / 1e6:.1f} MB) and {pol} ({spoofs} spoof events) "
          f"in {time.perf_counter() - t0:.1f} s")
    if args.rotate:
        rot = args.out / "rotated"
        files = rotate(log, rot, args.rotate, args.gzip)
        shutil.copy(pol, rot / pol.name)
        print(f"cut into {len(files)} rotated files in {rot}")


if __name__ == "__main__":
    main()
