#!/usr/bin/python3
"""mkseeds.py -- writes the seed corpora of tests/fuzz/corpus/TARGET/ (run
from anywhere; rewrites every file it names, leaves others alone).  Real
inputs of each target's format: frames of every message type as SPEC §2-§6
lays them out, test lcore records (fuzz_frame.c), PEERS payloads, sample
configs, API request lines, header runs cut from tests/data and regtest
headers mined here, and store files (tip record + headers) as sl_store
writes them.  Python's standard library only."""
import hashlib, os, struct

top = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(top, "..", "data")


def put(target, name, b):
    d = os.path.join(top, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(b)


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


# ---- headers ---------------------------------------------------------------
REGTEST_GENESIS = bytes.fromhex(
    "01000000" + "00" * 32 +
    "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a" +
    "dae5494d" + "ffff7f20" + "02000000")
REGTEST_TARGET = 0x7fffff << (8 * (0x20 - 3))


def regtest_chain(n, t0=1296688602, salt=0):
    """n regtest headers from genesis (genesis included), each mined."""
    out = [REGTEST_GENESIS]
    for h in range(1, n):
        prev = sha256d(out[-1])
        merkle = hashlib.sha256(b"sluice-fuzz %d %d" % (salt, h)).digest()
        for nonce in range(1 << 20):
            hdr = struct.pack("<I", 0x20000000) + prev + merkle + struct.pack(
                "<III", t0 + 600 * h, 0x207fffff, nonce)
            if int.from_bytes(sha256d(hdr), "little") <= REGTEST_TARGET:
                break
        out.append(hdr)
    return out


def data_headers(name, first, n):
    with open(os.path.join(data, name), "rb") as f:
        f.seek(80 * first)
        return f.read(80 * n)


reg = regtest_chain(40)
reg_fork = reg[:20] + regtest_chain(30, salt=1)[20:]

# ---- wire ------------------------------------------------------------------
GEN_HASH = sha256d(REGTEST_GENESIS)


def hdr(typ, stream, length, session, seq, corr=0, flags=0):
    return struct.pack(">HBBBBHIIQ", 0x534C, 1, typ, stream, flags, length, session, seq, corr)


def hello(auth=0):
    b = struct.pack(">BBHI", 1, 1, auth, 0x23) + GEN_HASH + b"\x11" * 32 + struct.pack(
        ">QII", 0xABCDEF, 0x5000, 0) + GEN_HASH
    return b + (b"\x22" * 32 + b"\x33" * 64 if auth else b"")


def hello_ack(nonce=0xABCDEF, reply=0x4242):
    return struct.pack(">IHH", 0x23, 0, 0) + b"\x77" * 32 + struct.pack(
        ">QII", nonce, reply, 0) + GEN_HASH


def peer(ip, port, flags=0, seen=1700000000):
    return struct.pack(">IHH", ip, port, flags) + bytes([ip & 0xff]) * 32 + struct.pack(">I", seen)


def peers(entries):
    return struct.pack(">B3x", len(entries)) + b"".join(entries)


def status(height, h):
    return struct.pack(">I", height) + h + (b"\x00" * 31 + b"\x02") + struct.pack(">I", 0)


def headers_msg(start, hs, last=True):
    return struct.pack(">IBBH", start, len(hs), 1 if last else 0, 0) + b"".join(hs)


PEERS4 = peers([peer(0x0a000063, 9747), peer(0xc0a80001, 9748, 1),
                peer(0x7f000001, 9747), peer(0xe0000001, 9747)])
msgs = {  # name: (stream, type, payload, session)
    "hello": (0, 1, hello(), 0),
    "hello_auth": (0, 1, hello(1), 0),
    "hello_ack": (0, 2, hello_ack(), 0x10001),
    "reject": (0, 3, struct.pack(">HH", 1, 30), 0x10001),
    "ping": (0, 4, struct.pack(">Q", 123456789), 0x10001),
    "pong": (0, 5, struct.pack(">Q", 123456789), 0x10001),
    "goodbye": (0, 6, struct.pack(">H", 3), 0x10001),
    "backoff": (0, 7, struct.pack(">I", 500), 0x10001),
    "get_peers": (1, 1, struct.pack(">H", 32), 0x10001),
    "peers": (1, 2, PEERS4, 0x10001),
    "peers_empty": (1, 2, peers([]), 0x10001),
    "status": (5, 1, status(39, sha256d(reg[39])), 0x10001),
    "get_headers": (5, 2, struct.pack(">IHH", 1, 17, 0) + GEN_HASH, 0x10001),
    "get_headers_too_many": (5, 2, struct.pack(">IHH", 1, 2001, 0) + GEN_HASH, 0x10001),
    "headers": (5, 3, headers_msg(1, reg[1:18]), 0x10001),
    "headers_one": (5, 3, headers_msg(1, reg[1:2], False), 0x10001),
    "not_found": (5, 4, struct.pack(">IH", 50, 2), 0x10001),
    "new_block": (5, 5, struct.pack(">I", 39) + reg[39], 0x10001),
}
for name, (stream, typ, pl, sess) in msgs.items():
    put("wire", name, hdr(typ, stream, len(pl), sess, 1, 7) + pl)
put("wire", "auth_tag", hdr(4, 0, 8, 0x10001, 2, 0, 1) + struct.pack(">Q", 1) + b"\x55" * 16)

# ---- frame: records [ctl][u16 len][bytes] (fuzz_frame.c) --------------------
OUR_MAC, OUR_IP = bytes.fromhex("020000000001"), 0x0a000001
PEER_MAC, PEER_IP = bytes.fromhex("020000000010"), 0x0a00000a


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, payload, src=PEER_IP, dst=OUR_IP):
    h = struct.pack(">BBHHHBBHII", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack(">H", csum(h)) + h[12:] + payload


def eth(typ, payload, dst=OUR_MAC, vlan=None):
    tag = struct.pack(">HH", 0x8100, vlan) if vlan is not None else b""
    return dst + PEER_MAC + tag + struct.pack(">H", typ) + payload


def udp_frame(payload, sport=9747, dport=9747, vlan=None):
    u = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    return eth(0x0800, ipv4(17, u), vlan=vlan)


def rec(ctl, b):
    return struct.pack(">BH", ctl, len(b)) + b


def wrap(slot, stream, typ, pl, seq, corr=0, tick=0):
    ctl = 1 | (slot << 2) | ((2 | (tick << 4)) if tick else 0)
    return rec(ctl, hdr(typ, stream, len(pl), 1, seq, corr) + pl)


arp_req = eth(0x0806, struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + PEER_MAC +
              struct.pack(">I", PEER_IP) + b"\0" * 6 + struct.pack(">I", OUR_IP),
              dst=b"\xff" * 6)
icmp = struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"sluice"
icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
put("frame", "arp_request", rec(0, arp_req))
put("frame", "icmp_echo", rec(0, eth(0x0800, ipv4(1, icmp))))
put("frame", "hello_raw", rec(0, udp_frame(hdr(1, 0, 120, 0, 1, 9) + hello())))
put("frame", "hello_vlan", rec(0, udp_frame(hdr(1, 0, 120, 0, 1, 9) + hello(), vlan=7)))
put("frame", "ping_raw_unknown_session",
    rec(0, udp_frame(hdr(4, 0, 8, 0x1234, 1) + struct.pack(">Q", 1))))
put("frame", "session_ping_pong",
    wrap(0, 0, 4, struct.pack(">Q", 5), 1) + wrap(0, 0, 5, struct.pack(">Q", 5), 2, tick=5))
put("frame", "session_goodbye", wrap(0, 0, 6, struct.pack(">H", 1), 1))
put("frame", "session_backoff", wrap(0, 0, 7, struct.pack(">I", 100), 1, tick=3))
put("frame", "replay", wrap(0, 0, 4, struct.pack(">Q", 5), 3) + wrap(0, 0, 4, struct.pack(">Q", 5), 3))
put("frame", "get_peers", wrap(0, 1, 1, struct.pack(">H", 8), 1, 11))
put("frame", "disc_only_settle", wrap(1, 1, 1, struct.pack(">H", 8), 1) + wrap(1, 0, 4, struct.pack(">Q", 1), 1, tick=15))
put("frame", "peers_unsolicited", wrap(0, 1, 2, PEERS4, 1))
put("frame", "status_get_headers",
    wrap(2, 5, 1, status(39, sha256d(reg[39])), 1) +
    wrap(2, 5, 2, struct.pack(">IHH", 0, 17, 0) + b"\0" * 32, 2, 21, tick=1))
put("frame", "headers_unsolicited", wrap(0, 5, 3, headers_msg(1, reg[1:18]), 1, 99))
put("frame", "not_found", wrap(0, 5, 4, struct.pack(">IH", 5, 1), 1, 99))
put("frame", "new_block", wrap(0, 5, 1, status(38, sha256d(reg[38])), 1) +
    wrap(0, 5, 5, struct.pack(">I", 39) + reg[39], 2))
ack = hello_ack(nonce=0x1003)
put("frame", "connect_ack_peers",
    wrap(3, 0, 2, ack, 1) + wrap(3, 1, 2, PEERS4, 1) + wrap(3, 5, 1, status(39, sha256d(reg[39])), 1, tick=2))
put("frame", "connect_reject", wrap(3, 0, 3, struct.pack(">HH", 9, 5), 1))
put("frame", "wrong_stream", wrap(1, 5, 1, status(1, GEN_HASH), 1))

# ---- peers: PEERS payloads -------------------------------------------------
put("peers", "four", PEERS4)
put("peers", "empty", peers([]))
put("peers", "ours_and_self", peers([peer(OUR_IP, 9747), peer(0x0a000002, 9747)]))
put("peers", "thirty_two", peers([peer(0x0a010000 + i, 9000 + i) for i in range(32)]))
put("peers", "dup", peers([peer(0x0a000063, 9747)] * 3))

# ---- cfg -------------------------------------------------------------------
with open(os.path.join(top, "..", "..", "deploy", "sluice.ini"), "rb") as f:
    put("cfg", "sluice_ini", f.read())
put("cfg", "minimal", b"[instance]\nname = a\n[dataplane]\nport = net_null0\nip = 10.0.0.1/24\n")
put("cfg", "peers", b"[peers]\nbootstrap = 10.0.0.2:9747, 10.0.0.3\noutbound = 4\n[chain]\nprofile = regtest\n")
put("cfg", "escaped", b"[eal]\nargs = --no-huge -m 512 \\; not a comment ; comment\n[log]\nlevel = debug\nformat = json\n")
put("cfg", "bad_key", b"[sync]\ninflight = 8\nnope = 1\n")

# ---- api: request lines ----------------------------------------------------
lines = [
    b'{"id":1,"cmd":"status"}', b'{"id":2,"cmd":"stats"}', b'{"id":3,"cmd":"peers"}',
    b'{"id":4,"cmd":"sync.status"}', b'{"id":5,"cmd":"ops"}', b'{"id":6,"cmd":"ranges"}',
    b'{"id":7,"cmd":"header.get","args":{"height":0}}',
    b'{"id":8,"cmd":"header.get","args":{"hash":"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"}}',
    b'{"id":9,"cmd":"peer.ban","args":{"addr":"10.0.0.9","seconds":60}}',
    b'{"id":10,"cmd":"peer.unban","args":{"addr":"10.0.0.9"}}',
    b'{"id":11,"cmd":"op.cancel","args":{"tx":5}}',
    b'{"id":12,"cmd":"header.fetch","args":{"height":1},"tx":77,"deadline_ms":100,"wait":false}',
    b'{"id":13,"cmd":"watch","args":{"topics":"sync,peers"}}',
    b'{"id":14,"cmd":"peer.show","args":{"session":1}}',
    b'{"id":15,"cmd":"sync.start","args":{"to_height":10},"wait":false}',
    b'{"id":16,"cmd":"nope"}', b'{"id":"x"}', b'not json', b'{"id":17,"cmd":"shutdown"}',
]
for i, l in enumerate(lines):
    put("api", "line_%02d" % i, l)
put("api", "session", b"\n".join(lines[:6] + lines[8:12]))

# ---- chain: [mode][header run] (fuzz_chain.c) -------------------------------
put("chain", "main_from_genesis", b"\x00" + data_headers("bitcoin-main-0-9999.headers", 1, 12))
put("chain", "test3_from_genesis", b"\x01" + data_headers("bitcoin-test3-0-9999.headers", 1, 12))
put("chain", "regtest_from_genesis", b"\x02" + b"".join(reg[1:40]))
put("chain", "regtest_fork", b"\x02" + b"".join(reg_fork[1:30]))
# checkpoint 32240 (trusted) + 15 trusted, then across the retarget at 32256
put("chain", "main_retarget_32256",
    bytes([0x04 | (15 << 3)]) + struct.pack("<I", 32240) +
    data_headers("bitcoin-main-30000-39999.headers", 2240, 30))
put("chain", "main_modern", bytes([0x04 | (15 << 3)]) + struct.pack("<I", 822528) +
    data_headers("bitcoin-main-822528-830592.headers", 0, 24))

# ---- store: tip file (584 bytes) + headers file (fuzz_store.c) -------------
def crc32c(b):
    c = 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 & -(c & 1))
    return ~c & 0xffffffff


def tip_slot(count, seq, epoch, tip_hash):
    body = struct.pack("<QIIQQ", 0x31504954534c5355, 1, count, seq, epoch) + tip_hash
    return body + struct.pack("<II", crc32c(body), 0)


def tip_file(count, seq, tip_hash, epoch=0):
    slot = tip_slot(count, seq, epoch, tip_hash)
    f = bytearray(584)
    off = 512 if seq & 1 else 0
    f[off:off + 72] = slot
    return bytes(f)


chain30 = b"".join(reg[:30])
put("store", "thirty", tip_file(30, 1, sha256d(reg[29])) + chain30)
put("store", "tail_beyond_tip", tip_file(20, 2, sha256d(reg[19])) + chain30 + b"\x01" * 40)
put("store", "torn_tip", tip_file(30, 3, sha256d(reg[29]))[:530] + b"\0" * 54 + chain30)
put("store", "fork_in_range", tip_file(29, 1, sha256d(reg_fork[28])) + b"".join(reg_fork[:29]))
put("store", "no_tip", b"\0" * 584 + chain30)
put("store", "empty", b"")
