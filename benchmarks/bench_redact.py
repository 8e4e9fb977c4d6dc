"""How fast `imsvalog redact` is, and whether it stays linear in the case's size.

For each ``--size-mb`` it writes a case of that size (:func:`make_case`: log.imss,
polevt.imss, msgtra.imss and a Postfix maillog in which every message has its own
subject, sender, Message-ID, queue IDs and internal ID, and senders come from a
pool of domains that grows with the case, as in a real ticket: what the first pass
learns grows with the size) and times, best of ``--repeat``, in the same run:

* ``sed -E`` replacing every IPv4 address (a naive anonymiser: one regex, C speed);
* a Python loop that reads every line and writes it back (the floor for any per-line
  Python tool);
* ``imsvalog.redact_files.redact_files`` (both passes: learning the case, then writing).

Prints seconds, MB/s, the ratios against both baselines, and how the time grows
against the smallest size (linear: 10x the size takes 10x the time).

Usage::

    .venv/bin/python benchmarks/bench_redact.py --size-mb 1 10 100 --repeat 1
"""

from __future__ import annotations

import argparse
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import GENERIC, LOC  # noqa: E402

from imsvalog.redact import Redactor  # noqa: E402
from imsvalog.redact_files import redact_files  # noqa: E402

WORDS = (
    "invoice report meeting budget offer order payment contract update review schedule project quarterly "
    "urgent password expiry delivery notice account statement shipment travel lunch training policy draft "
    "summer sale welcome reminder request approval feedback agenda minutes proposal security alert"
).split()
TLDS = "com net org co.jp de fr io info biz jp uk".split()


def _word(rng: random.Random, lo: int = 3, hi: int = 9) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(lo, hi)))


def _iid(rng: random.Random) -> str:
    return (f"{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-"
            f"8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}")


def make_case(out: Path, size_mb: float, seed: int = 13) -> list[Path]:
    """A case of about ``size_mb`` MB in ``out`` (four files); every message its own names, as in real mail."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = [out / "log.imss.20240312.0001", out / "polevt.imss.20240312.0001",
             out / "msgtra.imss.20240312.0001", out / "maillog-20240313"]
    target = int(size_mb * 1_000_000)
    domains: list[str] = []
    t = 1710201600
    written = 0
    with open(paths[0], "w") as log, open(paths[1], "w") as pol, open(paths[2], "w") as tra, open(paths[3], "w") as mlog:
        while written < target:
            if not domains or rng.random() < 0.05:  # the pool of sender domains grows with the case
                domains.append(f"{_word(rng)}.{rng.choice(TLDS)}")
            dom = rng.choice(domains)
            sender = f"{_word(rng, 3, 7)}.{_word(rng, 3, 8)}@{rng.choice(('', 'mail.', 'news.'))}{dom}"
            rcpt = f"{_word(rng, 3, 7)}@example.com"
            subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).capitalize() + f" {rng.randint(1, 99999)}"
            attachment = rng.choice(("", "", "", f"{_word(rng)}.pdf", f"{_word(rng)}_{rng.randint(1, 999)}.xlsx"))
            qid, qid2 = f"{rng.getrandbits(40):010X}", f"{rng.getrandbits(40):010X}"
            mid = f"<{time.strftime('%Y%m%d%H%M%S', time.gmtime(t))}.{qid}@{dom}>"
            iid = _iid(rng)
            ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(t)) + " GMT+09:00"
            head = f"{stamp} [28639:{4098483968 + rng.randint(0, 13) * 4096}] "
            lines = [
                "Info: Accept connection from client [127.0.0.1]",
                f">>> Message-ID : {mid}",
                "Start Rule Set Retrieval spent 0 ms",
                "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                f"from mx1.example.com (mx1.example.com [198.51.100.25])\tby imsva.example.com (Postfix) with ESMTP id {qid2}"
                f"\tfor <{rcpt}>; Tue, 12 Mar 2024 09:15:00 +0900",
                "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.25",
                "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                f"from mail.{dom} (mail.{dom} [{ip}]) by mx1.example.com (Postfix) with ESMTPS id {qid}; "
                "Tue, 12 Mar 2024 09:14:59 +0900",
                f"[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:{ip}",
                f"[DEBUG]AntiSpoofFilter: Get 2 IP address from received header. 198.51.100.25,{ip},",
                "[DEBUG]AntiSpoofFilter: sender domain and recipient domain are different",
                "filter AntiSpoofFilter isTriggered returned false " + LOC,
            ]
            lines += [rng.choice(GENERIC).format(n=rng.randint(1, 99999)) for _ in range(rng.randint(8, 20))]
            lines += ["Final action 0: DeliverAction", f"Scan finished for {iid}, scanned 1 times"]
            text = "".join(head + x + "\n" for x in lines)
            log.write(text)
            p = "\t".join([stamp, iid, sender, rcpt, subject, "1", "Inbound Spam", "0100000000000000", "",
                           f"{rng.uniform(1, 900):.6f}", "01000000000000000", "7.5", "0", "0", attachment, "", "", "",
                           "1", "15", "0", "0", mid] + ["0"] * 17) + "\n"
            pol.write(p)
            when = time.strftime("%Y %b %d %H:%M:%S", time.gmtime(t)) + " +09:00"
            m = "\t".join(["NormalTransac", when, stamp.replace(" GMT", " "), when, mid.strip("<>"), iid, qid, "2",
                           sender, rcpt, subject, f"mail.{dom}[{ip}]", "[10.20.0.10]:25",
                           f"250 2.6.0 {mid} [InternalId={rng.randint(1, 99999999)}] Queued mail for delivery",
                           "sent", "01000000000000000", "#null#"]) + "\n"
            tra.write(m)
            day = time.strftime("%b %e %H:%M:%S", time.gmtime(t))
            pid = rng.randint(1000, 32000)
            ml = [
                f"postfix/smtpd[{pid}]: connect from mail.{dom}[{ip}]",
                f"postfix/smtpd[{pid}]: {qid}: client=mail.{dom}[{ip}]",
                f"postfix/cleanup[{pid + 1}]: {qid}: message-id={mid}",
                f"postfix/qmgr[1180]: {qid}: from=<{sender}>, size={rng.randint(2000, 90000)}, nrcpt=1 (queue active)",
                f"postfix/smtp[{pid + 2}]: {qid}: to=<{rcpt}>, relay=localhost[127.0.0.1]:10025, delay=1.2, "
                f"delays=0.1/0.01/0.05/1.0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {qid2})",
                f"postfix/qmgr[1180]: {qid}: removed",
            ]
            mtext = "".join(f"{day} imsva01 {x}\n" for x in ml)
            mlog.write(mtext)
            written += len(text) + len(p) + len(m) + len(mtext)
            t += rng.randint(0, 3)
    return paths


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(work: Path, size_mb: float, repeat: int) -> tuple[float, int, float, float, float]:
    """(MB, lines, sed s, Python copy s, redact s) for one case size."""
    case = work / f"in-{size_mb:g}"
    files = make_case(case, size_mb)
    size = sum(p.stat().st_size for p in files)
    lines = sum(sum(1 for _ in open(p, "rb")) for p in files)

    def sed() -> None:
        with open(work / "sed.out", "wb") as out:
            subprocess.run(["sed", "-E", r"s/[0-9]{1,3}(\.[0-9]{1,3}){3}/x.x.x.x/g", *map(str, files)], stdout=out, check=True)

    def copy() -> None:
        for src in files:
            with open(src, "rb") as fh, open(work / ("copy-" + src.name), "wb") as out:
                for raw in fh:
                    out.write(raw.decode("utf-8", "surrogateescape").encode("utf-8", "surrogateescape"))

    n = 0

    def redact() -> None:
        nonlocal n
        n += 1
        out = work / f"out{n}"
        redact_files([case], out, Redactor(b"bench-key-bench-key-bench-key-32"))
        shutil.rmtree(out)

    t_sed, t_copy, t_red = best(sed, repeat), best(copy, repeat), best(redact, repeat)
    shutil.rmtree(case)
    return size / 1e6, lines, t_sed, t_copy, t_red


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, nargs="+", default=[1, 10], help="case sizes to measure (MB)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-redact-"))
    try:
        rows = []
        for size in sorted(args.size_mb):
            rows.append(measure(work, size, args.repeat))
            mb, lines, t_sed, t_copy, t_red = rows[-1]
            if len(rows) == 1:
                print(f"best of {args.repeat}; log.imss + polevt + msgtra + maillog, every message its own names")
                print(f"{'MB':>7} {'lines':>10} {'sed s':>7} {'copy s':>7} {'redact s':>9} {'MB/s':>6} "
                      f"{'x sed':>6} {'x copy':>7} {'growth':>7}")
            base_mb, base_t = rows[0][0], rows[0][4]
            growth = f"{(t_red / base_t) / (mb / base_mb):.2f}" if len(rows) > 1 else "-"
            print(f"{mb:7.1f} {lines:10,} {t_sed:7.2f} {t_copy:7.2f} {t_red:9.2f} {mb / t_red:6.2f} "
                  f"{t_red / t_sed:6.1f} {t_red / t_copy:7.1f} {growth:>7}", flush=True)
        print("growth = (time / time at the smallest size) / (size / smallest size): 1.00 is linear")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
