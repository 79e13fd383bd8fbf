#!/usr/bin/python3
# Runs on: the test host, as root (DPDK runtime directory under /var/run/dpdk).
#
# Plays every golden fixture of fixtures.py through the real kadp binary
# over two DPDK pcap ports and compares what comes out: packet count, every
# header field of every layer, every byte, checksums recomputed
# independently, and the counters kadp prints on SIGTERM.
#
#   tests/packet/run_fixtures.py [--kadp PATH] [--only NAME]... [--all] [--keep] [--verbose]
#   tests/packet/run_fixtures.py --list
#   tests/packet/run_fixtures.py --self-test
#
# Output: "PASS: name" / "FAIL: name: reason" (details indented below) /
# "SKIP: name: why", then "COUNT passed failed skipped"; exit 1 on any
# failure (scripts/test.sh reads the COUNT line).
#
# Counters: kadp prints its non-zero counters to stderr on SIGTERM. Any
# line is read; every "NAME VALUE", "NAME=VALUE" or "NAME: VALUE" in it
# whose NAME is a counter of dataplane/counters.h counts (several per line
# are fine). Each counter should appear once (totals over workers); the same
# name with two different values is an error. A counter not printed is 0.
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, str(HERE))

try:
    from scapy.config import conf as scapy_conf
    scapy_conf.verb = 0
    from scapy.fields import ConditionalField
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.l2 import Dot1Q, Ether
    from scapy.packet import Raw
except ImportError:
    print("SKIP: packet fixtures: scapy missing (run with /usr/bin/python3, apt-get install python3-scapy)")
    print("COUNT 0 0 1")
    sys.exit(0)

import fixtures as fx  # noqa: E402

EAL = ["-l", "0,1", "--no-huge", "-m", "512", "--no-pci", "--no-telemetry"]
START_TIMEOUT = 20.0  # until "kadp: running"
SETTLE_MIN = 1.0      # after running: pcap rx reads its file at once; let the worker finish
SETTLE_MAX = 3.0      # stop waiting for the output files to stop growing
STOP_TIMEOUT = 10.0   # SIGTERM -> exit
DLT_EN10MB = 1


# --- pcap files (written and read here: no scapy quirks about link types) ---
def write_pcap(path: Path, frames) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, DLT_EN10MB))
        for i, p in enumerate(frames):
            raw = bytes(p)
            f.write(struct.pack("<IIII", 1, i, len(raw), len(raw)))
            f.write(raw)


def read_pcap(path: Path) -> tuple[list[bytes] | None, str]:
    """Frames, or None and why."""
    if not path.exists():
        return None, f"{path.name} does not exist"
    data = path.read_bytes()
    if len(data) < 24:
        return None, f"{path.name} has {len(data)} bytes, no pcap header (kadp did not close the port?)"
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        return None, f"{path.name}: not a pcap file (magic {magic:#x})"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != DLT_EN10MB:
        return None, f"{path.name}: link type {linktype}, not Ethernet"
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            return None, f"{path.name}: truncated record at byte {off}"
        frames.append(data[off:off + incl])
        off += incl
    return frames, ""


# --- packet comparison --------------------------------------------------------
def layers(p) -> list:
    out, cur = [], p
    while cur is not None and type(cur).__name__ != "NoPayload":
        out.append(cur)
        cur = cur.payload
    return out


def active_fields(layer):
    for f in layer.fields_desc:
        if isinstance(f, ConditionalField) and not f._evalcond(layer):
            continue
        yield f.name


def norm(v):
    if hasattr(v, "value") and type(v).__name__ == "FlagValue":
        return int(v)
    if isinstance(v, list):
        return [bytes(x) if hasattr(x, "fields_desc") else x for x in v]
    return v


def show(v):
    v = norm(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v} ({v:#x})"
    if isinstance(v, bytes):
        return v.hex() if len(v) <= 32 else v[:32].hex() + f"... ({len(v)} bytes)"
    return repr(v)


def compare_frames(exp_raw: bytes, got_raw: bytes) -> list[str]:
    """Every difference: 'Layer.field: expected X, got Y'."""
    e, g = Ether(exp_raw), Ether(got_raw)
    diffs = []
    el, gl = layers(e), layers(g)
    for i, (a, b) in enumerate(zip(el, gl)):
        an, bn = type(a).__name__, type(b).__name__
        if an != bn:
            diffs.append(f"layer {i}: expected {an}, got {bn}")
            break
        for name in active_fields(a):
            va, vb = norm(a.getfieldval(name)), norm(b.getfieldval(name))
            if va != vb:
                diffs.append(f"{an}.{name}: expected {show(va)}, got {show(vb)}")
    else:
        if len(el) != len(gl):
            diffs.append(f"layers: expected {'/'.join(type(x).__name__ for x in el)}, "
                         f"got {'/'.join(type(x).__name__ for x in gl)}")
    if exp_raw != got_raw:
        if len(exp_raw) != len(got_raw):
            diffs.append(f"frame length: expected {len(exp_raw)}, got {len(got_raw)}")
        else:
            off = next(i for i in range(len(exp_raw)) if exp_raw[i] != got_raw[i])
            if not diffs:
                diffs.append(f"bytes differ from offset {off}: expected {exp_raw[off:off + 8].hex()}, "
                             f"got {got_raw[off:off + 8].hex()}")
    return diffs


def checksum_errors(raw: bytes) -> list[str]:
    """Recompute IP/TCP/UDP/ICMP checksums of a frame independently: delete
    each chksum, let scapy rebuild it, compare. Quoted headers inside ICMP
    errors (IPerror, TCPerror, UDPerror) are left as they were received.
    In an IPv4 fragment only the IP checksum is rebuilt: a first fragment's
    TCP/UDP checksum covers the whole datagram (fixtures reassemble and
    check it themselves)."""
    errs = []
    p = Ether(raw)
    targets = [l for l in layers(p) if type(l) in (IP, TCP, UDP, ICMP)]
    if not targets:
        return errs
    fragment = IP in p and (p[IP].frag != 0 or "MF" in p[IP].flags)
    q = p.copy()
    for l in layers(q):
        if type(l) is IP or (type(l) in (TCP, ICMP) and not fragment):
            del l.chksum
        elif type(l) is UDP and l.chksum != 0 and not fragment:  # 0: no checksum (RFC 768)
            del l.chksum
    rebuilt = Ether(bytes(q))
    for a, b in zip(layers(p), layers(rebuilt)):
        if type(a) in (IP, TCP, UDP, ICMP) and a.chksum != b.chksum:
            errs.append(f"{type(a).__name__}.chksum {a.chksum:#06x} is wrong, should be {b.chksum:#06x}")
    return errs


def summary(raw: bytes) -> str:
    try:
        return Ether(raw).summary()
    except Exception:  # noqa: BLE001 - a summary must never fail a report
        return raw[:32].hex()


# --- counters ---------------------------------------------------------------
def counter_names() -> list[str]:
    text = (REPO / "dataplane" / "counters.h").read_text()
    body = text[text.index("#define KADP_COUNTERS"):]
    body = body[:body.index("enum class Counter")]
    return re.findall(r"\bX\((\w+),", body)


def parse_counters(text: str, names: list[str]) -> tuple[dict[str, int], list[str]]:
    pattern = re.compile(r"(?<![\w.])(" + "|".join(sorted(names, key=len, reverse=True)) +
                         r")(?:\s*[=:]\s*|\s+)(\d+)\b")
    seen: dict[str, set[int]] = {}
    for line in text.splitlines():
        for m in pattern.finditer(line):
            seen.setdefault(m.group(1), set()).add(int(m.group(2)))
    errors = [f"counter {n} printed with different values {sorted(v)}" for n, v in seen.items() if len(v) > 1]
    return {n: max(v) for n, v in seen.items()}, errors


# --- running kadp -------------------------------------------------------------
class Run:
    def __init__(self, kadp: Path, fixture, workdir: Path, prefix: str):
        self.kadp, self.fx, self.dir, self.prefix = kadp, fixture, workdir, prefix
        self.log = workdir / "kadp.log"
        self.proc: subprocess.Popen | None = None

    def paths(self, port):
        return self.dir / f"{port}-in.pcap", self.dir / f"{port}-out.pcap"

    def prepare(self) -> Path:
        conf = self.fx.config
        for port in fx.PORTS:
            rx, tx = self.paths(port)
            write_pcap(rx, self.fx.inputs.get(port, []))
            conf = conf.replace(f"@{port}.rx@", str(rx)).replace(f"@{port}.tx@", str(tx))
        path = self.dir / "kadp.conf"
        path.write_text(conf)
        return path

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def execute(self) -> list[str]:
        """Start, let it consume the input, SIGTERM, wait. Problems as text."""
        conf = self.prepare()
        # Its own control socket: the default /run/kadp/kadp.sock is one per host.
        cmd = [str(self.kadp), *EAL, "--file-prefix", self.prefix, "--", "-f", str(conf),
               "--control-socket", str(self.log.parent / "kadp.sock"),
               # No kernel TAPs: the fixtures run in the host's namespace, and
               # they pin the data plane's own verdicts.
               "--no-exception-path"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while "kadp: running" not in self.log_text():
            if self.proc.poll() is not None:
                return [f"kadp exited with {self.proc.returncode} before running"]
            if time.monotonic() > deadline:
                self.kill()
                return [f"kadp not running after {START_TIMEOUT:.0f} s"]
            time.sleep(0.05)
        problems = self.check_macs()
        # The pcap PMD flushes on close, so growth is only a hint; the floor is SETTLE_MIN.
        start, last, stable_since = time.monotonic(), None, time.monotonic()
        while time.monotonic() - start < SETTLE_MAX:
            sizes = tuple(p.stat().st_size if p.exists() else -1 for port in fx.PORTS for p in [self.paths(port)[1]])
            if sizes != last:
                last, stable_since = sizes, time.monotonic()
            if time.monotonic() - start >= SETTLE_MIN and time.monotonic() - stable_since >= 0.3:
                break
            if self.proc.poll() is not None:
                return problems + [f"kadp exited with {self.proc.returncode} while running"]
            time.sleep(0.05)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return problems + [f"kadp did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM (killed)"]
        if rc != 0:
            problems.append(f"kadp exited with {rc} after SIGTERM")
        if "kadp: stopped" not in self.log_text():
            problems.append("no 'kadp: stopped' line")
        return problems

    def check_macs(self) -> list[str]:
        problems = []
        for port in fx.PORTS:
            m = re.search(rf"^kadp: port {port} \(.*\) up, .* mac ([0-9a-f:]{{17}})", self.log_text(), re.M)
            if not m:
                problems.append(f"port {port}: no 'port {port} ... up ... mac' line")
            elif m.group(1) != fx.KADP_MAC[port]:
                problems.append(f"port {port}: kadp's MAC is {m.group(1)}, the fixtures assume {fx.KADP_MAC[port]}")
        return problems


def without_arp_retransmissions(frames: list[bytes]) -> list[bytes]:
    """Drops byte-identical repeats of an ARP request kadp already sent: a
    neighbour the fixture never answers is asked again every retrans_ms
    (1 s, dataplane/neigh_table.h), and whether the repeat leaves before
    SIGTERM depends only on how long the run took on a loaded machine."""
    seen, out = set(), []
    for raw in frames:
        if len(raw) >= 22 and raw[12:14] == b"\x08\x06" and raw[20:22] == b"\x00\x01":
            if raw in seen:
                continue
            seen.add(raw)
        out.append(raw)
    return out


def check_fixture(run: Run, names: list[str]) -> list[str]:
    """Everything that differs, most telling first."""
    out = []
    for port in fx.PORTS:
        expected = [bytes(p) for p in run.fx.expected.get(port, [])]
        got, why = read_pcap(run.paths(port)[1])
        if got is None:
            out.append(f"port {port}: no output: {why}")
            continue
        got = without_arp_retransmissions(got)
        if len(got) != len(expected):
            head = "no output" if not got else f"{len(got)} packets"
            out.append(f"port {port}: expected {len(expected)} packets, got {head}")
            for i, raw in enumerate(expected):
                out.append(f"  expected[{i}] {summary(raw)}")
            for i, raw in enumerate(got):
                out.append(f"  got[{i}]      {summary(raw)}")
        for i, (e, g) in enumerate(zip(expected, got)):
            diffs = compare_frames(e, g)
            if diffs:
                out.append(f"port {port} packet {i} ({summary(e)}): " + "; ".join(diffs))
        for i, g in enumerate(got):
            for err in checksum_errors(g):
                out.append(f"port {port} packet {i}: {err}")
    # Did kadp read every input frame? The worker's "stopped: rx N" lines say
    # (today's log format; without them, rx_packets if printed; else unchecked).
    sent = sum(len(run.fx.inputs.get(p, [])) for p in fx.PORTS)
    rx = [int(n) for n in re.findall(r"^kadp: worker on lcore \d+ stopped: rx (\d+)", run.log_text(), re.M)]
    printed, errors = parse_counters(run.log_text(), names)
    received = sum(rx) if rx else printed.get("rx_packets")
    if received is not None and received != sent:
        out.insert(0, f"kadp received {received} of the {sent} input frames")
    out.extend(errors)
    if any(run.fx.counters.values()) and not printed:
        out.append("counters: kadp printed none on SIGTERM")
    for name, want in run.fx.counters.items():
        have = printed.get(name, 0)
        if have != want:
            out.append(f"counter {name}: expected {want}, got {have}" + ("" if name in printed else " (not printed)"))
    return out


def run_one(f, kadp: Path, names: list[str], keep: bool, verbose: bool, seq: int) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix=f"kadp-pkt-{f.name[:20]}-"))
    prefix = f"kadp-pkt-{os.getpid()}-{seq}"
    run = Run(kadp, f, workdir, prefix)
    try:
        problems = run.execute()
        if not any("exited" in p or "not running" in p for p in problems):
            problems += check_fixture(run, names)
    except Exception as e:  # noqa: BLE001 - one broken fixture must not stop the others
        problems = [f"runner error: {type(e).__name__}: {e}"]
    finally:
        run.kill()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    if problems:
        print(f"FAIL: {f.name}: {problems[0]}")
        for p in problems[1:]:
            print(f"    {p}")
        if verbose or any("exited" in p or "not running" in p or "stop" in p for p in problems):
            for line in run.log_text().splitlines()[-25:]:
                print(f"    | {line}")
        print(f"    (files: {workdir})" if keep else "", end="\n" if keep else "")
    else:
        print(f"PASS: {f.name}")
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.flush()
    return not problems


# --- self-test of the comparison code ----------------------------------------------
def mutate(value, field_name):
    v = norm(value)
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v ^ 1 if field_name not in ("version",) else (v + 1) & 0xF
    if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", v):
        return v[:-2] + ("00" if v[-2:] != "00" else "01")
    if isinstance(v, str) and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v):
        a = v.split(".")
        a[-1] = str((int(a[-1]) + 1) % 256)
        return ".".join(a)
    if isinstance(v, bytes):
        return (bytes([v[0] ^ 0xFF]) + v[1:]) if v else b"\x01"
    if isinstance(v, list):
        return [] if v else [("NOP", None)] * 4
    return None


def self_test() -> int:
    samples = fx.all_fixtures()
    frames = []
    for f in samples:
        for port in fx.PORTS:
            frames += [bytes(p) for p in f.expected.get(port, [])]
    frames.append(bytes(fx.frame(fx.Ether(dst=fx.CLIENT_MAC, src=fx.KADP_MAC["lan"], type=0x8100) /
                                 Dot1Q(prio=3, id=0, vlan=100) / fx.IP(src=fx.VIP, dst=fx.CLIENT_IP,
                                                                        options=b"\x01\x01\x01\x00") /
                                 fx.UDP(sport=53, dport=40001) / Raw(b"payload-for-self-test"))))
    ok = bad = 0
    problems = []

    def expect(cond, what):
        nonlocal ok, bad
        if cond:
            ok += 1
        else:
            bad += 1
            problems.append(what)

    seen_fields = set()
    examples: dict[str, str] = {}
    for raw in frames:
        expect(compare_frames(raw, raw) == [], f"identical frame reported different: {summary(raw)}")
        expect(checksum_errors(raw) == [], f"fixture frame has a wrong checksum: {summary(raw)}: {checksum_errors(raw)}")
        base = Ether(raw)
        for li, layer in enumerate(layers(base)):
            lname = type(layer).__name__
            for name in list(active_fields(layer)):
                new = mutate(layer.getfieldval(name), name)
                if new is None:
                    continue
                m = Ether(raw)
                target = layers(m)[li]
                try:
                    target.setfieldval(name, new)
                    mraw = bytes(m)
                except Exception:  # noqa: BLE001 - a value scapy cannot build: not a case
                    continue
                if mraw == raw:
                    continue  # the field does not reach the wire (e.g. an unused conditional)
                diffs = compare_frames(raw, mraw)
                named = any(d.startswith(f"{lname}.{name}:") for d in diffs)
                # Structural fields (lengths, types, offsets) re-shape what follows:
                # any reported difference is what counts for them.
                expect(bool(diffs), f"{lname}.{name} changed, nothing reported ({summary(raw)})")
                if named:
                    if lname not in examples:
                        examples[lname] = next(d for d in diffs if d.startswith(f"{lname}.{name}:"))
                    seen_fields.add(f"{lname}.{name}")
    # Byte level: every single-byte change of every frame is reported; and
    # fields scapy refuses to rebuild with another value (ICMP.type changes
    # the shape of ICMP's own fields) are mutated here, in the bytes.
    for raw in frames:
        for off in range(len(raw)):
            mraw = raw[:off] + bytes([raw[off] ^ 0x01]) + raw[off + 1:]
            expect(bool(compare_frames(raw, mraw)), f"byte {off} changed, nothing reported ({summary(raw)})")
        base = Ether(raw)
        if type(base.payload) is IP and type(base.payload.payload) is ICMP:
            off = 14 + base[IP].ihl * 4
            mraw = raw[:off] + bytes([raw[off] ^ 0x08]) + raw[off + 1:]
            if any(d.startswith("ICMP.type:") for d in compare_frames(raw, mraw)):
                seen_fields.add("ICMP.type")
    # Independent checksum check: corrupt each checksum, keep everything else.
    corrupt = 0
    for raw in frames:
        base = Ether(raw)
        # A fragment's L4 checksum covers the whole datagram: not rebuilt (checksum_errors).
        fragment = IP in base and (base[IP].frag != 0 or "MF" in base[IP].flags)
        for li, layer in enumerate(layers(base)):
            if fragment and type(layer) in (TCP, UDP):
                continue
            if type(layer) in (IP, TCP, UDP, ICMP) and not (type(layer) is UDP and layer.chksum == 0):
                m = Ether(raw)
                t = layers(m)[li]
                t.chksum = (t.chksum ^ 0x0100) or 1
                errs = checksum_errors(bytes(m))
                expect(any(e.startswith(f"{type(layer).__name__}.chksum") for e in errs),
                       f"{type(layer).__name__}.chksum corrupted, not detected ({summary(raw)}): {errs}")
                corrupt += 1
    # A zero UDP checksum is valid.
    z = fx.client_udp(53, zero_csum=True)
    expect(checksum_errors(bytes(z)) == [], "UDP checksum 0 reported wrong")
    # Counter parsing, every accepted form, and the traps.
    names = counter_names()
    text = ("kadp: counters: rx_packets 7, nat_in=3 nat_out: 2\n"
            "conn_new    1\n"
            "kadp: worker on lcore 1 stopped: rx 5, tx 4\n"
            "  drop_bad_ihl=1 not a counter: conn_table_size 4096, xnat_reply_no_conn 9\n")
    got, errs = parse_counters(text, names)
    expect(got == {"rx_packets": 7, "nat_in": 3, "nat_out": 2, "conn_new": 1, "drop_bad_ihl": 1} and not errs,
           f"counter parsing: {got} {errs}")
    got, errs = parse_counters("nat_in 1\nnat_in 2\n", names)
    expect(bool(errs), "two values for one counter not reported")
    expect(len(names) > 50 and "nat_reply_no_conn" in names, f"counters.h parsed to {len(names)} names")
    # Fixture lint: counter names exist.
    for f in samples:
        for n in f.counters:
            expect(n in names, f"fixture {f.name}: counter {n} is not in counters.h")

    wanted = {"Ether.dst", "Ether.src", "Ether.type", "Dot1Q.prio", "Dot1Q.vlan", "Dot1Q.type",
              "ARP.hwtype", "ARP.ptype", "ARP.hwlen", "ARP.plen", "ARP.op", "ARP.hwsrc", "ARP.psrc",
              "ARP.hwdst", "ARP.pdst", "IP.tos", "IP.len", "IP.id", "IP.flags", "IP.frag", "IP.ttl",
              "IP.proto", "IP.chksum", "IP.src", "IP.dst", "TCP.sport", "TCP.dport", "TCP.seq", "TCP.ack",
              "TCP.flags", "TCP.window", "TCP.chksum", "TCP.urgptr", "UDP.sport", "UDP.dport", "UDP.len",
              "UDP.chksum", "ICMP.type", "ICMP.code", "ICMP.chksum", "ICMP.id", "ICMP.seq", "Raw.load",
              "Padding.load", "IPerror.src", "IPerror.ttl", "UDPerror.sport"}
    for w in sorted(wanted - seen_fields):
        expect(False, f"a change of {w} was never reported under its own name")
    for p in problems:
        print(f"SELF-TEST FAIL: {p}")
    print(f"self-test: {ok} checks passed, {bad} failed; {len(frames)} frames, "
          f"{len(seen_fields)} distinct fields reported by name when changed, {corrupt} corrupted checksums")
    print("fields: " + " ".join(sorted(seen_fields)))
    for lname, d in examples.items():
        print(f"  e.g. {d}")
    return 0 if bad == 0 else 1


# --- main -------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description="kadp golden packet fixtures over DPDK pcap ports")
    ap.add_argument("--kadp", default=str(REPO / "build" / "kadp"), help="kadp binary (default: build/kadp)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="run this fixture (repeatable)")
    ap.add_argument("--all", action="store_true", help="also run pending fixtures")
    ap.add_argument("--list", action="store_true", help="print the fixtures and exit")
    ap.add_argument("--self-test", action="store_true", help="test the comparison code, no kadp")
    ap.add_argument("--keep", action="store_true", help="keep each fixture's directory (pcaps, config, log)")
    ap.add_argument("--verbose", action="store_true", help="print kadp's log on every failure")
    args = ap.parse_args()

    if args.self_test:
        return self_test()
    fixtures = fx.all_fixtures()
    if args.list:
        for f in fixtures:
            ins = ", ".join(f"{p} {len(f.inputs.get(p, []))}" for p in fx.PORTS)
            outs = ", ".join(f"{p} {len(f.expected.get(p, []))}" for p in fx.PORTS)
            print(f"{f.name}{'  [pending]' if f.pending else ''}\n    {f.description}\n"
                  f"    in: {ins}; out: {outs}; counters: {f.counters}")
        return 0
    unknown = [n for n in args.only if n not in {f.name for f in fixtures}]
    if unknown:
        print(f"FAIL: unknown fixture(s) {', '.join(unknown)} (see --list)")
        print("COUNT 0 1 0")
        return 1
    kadp = Path(args.kadp)
    if not kadp.is_absolute():
        kadp = (Path.cwd() / kadp).resolve()
    if not (kadp.is_file() and os.access(kadp, os.X_OK)):
        print(f"FAIL: no kadp binary at {kadp}")
        print("COUNT 0 1 0")
        return 1
    names = counter_names()
    passed = failed = skipped = 0
    for seq, f in enumerate(fixtures):
        if args.only and f.name not in args.only:
            continue
        bad = [n for n in f.counters if n not in names]
        if bad:
            print(f"FAIL: {f.name}: counters not in dataplane/counters.h: {', '.join(bad)}")
            failed += 1
            continue
        if f.pending and not args.all and f.name not in args.only:
            print(f"SKIP: {f.name}: pending: {f.pending_reason} (run with --all)")
            skipped += 1
            continue
        if run_one(f, kadp, names, args.keep, args.verbose, seq):
            passed += 1
        else:
            failed += 1
    print(f"COUNT {passed} {failed} {skipped}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
