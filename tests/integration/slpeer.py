#!/usr/bin/python3
"""slpeer.py — a sluice test peer written from SPEC.md alone (not from the C).

Integration scenarios run it inside the test network namespace to drive a
real sluice-dp / sluice-ctrl over plain kernel UDP sockets.  It speaks the
wire protocol exactly as SPEC.md §2–§6 fixes it, and misbehaves on purpose
when asked (the hostile-input table, HOSTILE_CASES).

Module:
  encode_frame / decode_frame, encode_payload / decode_payload  (the codec)
  Peer        one session as initiator: hello, send, recv, ping, pump,
              run_for, goodbye, get_peers (answers PINGs by itself)
  Responder   the node's side, strict (anti-replay, stream and source checks,
              admission rules): serve() accepts HELLO, answers PING, GET_PEERS
  handshake_many, flood, run_case (hostile)
CLI (one JSON object per line on stdout):
  handshake | hold | serve | send-raw | hostile | flood | selftest
Python stdlib only; run with /usr/bin/python3.
"""

import argparse
import collections
import hashlib
import json
import os
import resource
import secrets
import select
import socket
import struct
import sys
import threading
import time

# ---- SPEC constants --------------------------------------------------------

MAGIC = 0x534C  # §2 "SL"
VERSION = 1
HDR_LEN = 24
MAX_UDP = 1472  # §1 largest UDP payload of a frame
TAG_LEN = 16  # §8 AUTH tag after the payload
PUBKEY_LEN = 32
SIG_LEN = 64
DEFAULT_PORT = 9747
F_AUTH = 0x01
F_MASK = F_AUTH  # every defined header flag
REPLAY_WINDOW = 64
HELLO_IDEMPOTENT_S = 10.0

S_SESSION, S_DISCOVERY, S_HSYNC, S_BSYNC = 0, 1, 5, 6
STREAM_NAMES = {0: "session", 1: "discovery", 5: "header-sync", 6: "block-sync"}

T_HELLO, T_HELLO_ACK, T_REJECT, T_PING, T_PONG, T_GOODBYE, T_BACKOFF = range(1, 8)
T_GET_PEERS, T_PEERS = 1, 2
T_STATUS, T_GET_HEADERS, T_HEADERS, T_NOT_FOUND, T_NEW_BLOCK = range(1, 6)

REJECT_REASONS = {1: "FULL", 2: "BANNED", 3: "VERSION", 4: "CHAIN_MISMATCH",
                  5: "RATE_LIMITED", 6: "DUPLICATE", 7: "SELF", 8: "AUTH",
                  9: "NOT_READY"}
GOODBYE_REASONS = {1: "SHUTDOWN", 2: "PROTOCOL", 3: "ADMIN", 4: "TIMEOUT",
                   5: "PARKED_IDLE"}
NOT_FOUND_REASONS = {1: "UNKNOWN_ANCHOR", 2: "BEYOND_TIP", 3: "TOO_MANY",
                     4: "BUSY"}
REJECT = {v: k for k, v in REJECT_REASONS.items()}
GOODBYE = {v: k for k, v in GOODBYE_REASONS.items()}
NOT_FOUND = {v: k for k, v in NOT_FOUND_REASONS.items()}

AUTH_NONE, AUTH_X25519 = 0, 1
STREAMS_DEFAULT = 0b100011  # streams 0, 1, 5
PEERS_MAX = 32
HEADERS_MAX_N = 17
GET_HEADERS_MAX = 2000

# Chain profiles (§7): genesis display hashes; the wire carries the reverse.
GENESIS_DISPLAY = {
    "regtest": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
    "bitcoin-main": "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    "bitcoin-test3": "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
}
_GENESIS_MERKLE = bytes.fromhex(
    "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b")[::-1]
# (time, bits, nonce) of each genesis header (version 1, prev all-zero).
_GENESIS_FIELDS = {
    "regtest": (1296688602, 0x207FFFFF, 2),
    "bitcoin-main": (1231006505, 0x1D00FFFF, 2083236893),
    "bitcoin-test3": (1296688602, 0x1D00FFFF, 414098458),
}


def genesis_header(profile):
    """The 80-byte serialized genesis header of a built-in profile."""
    t, bits, nonce = _GENESIS_FIELDS[profile]
    return struct.pack("<I32s32sIII", 1, bytes(32), _GENESIS_MERKLE, t, bits, nonce)


def header_hash(header):
    """Double SHA-256 of an 80-byte header, wire (not reversed) order."""
    return hashlib.sha256(hashlib.sha256(header).digest()).digest()


def chain_id_of(name_or_hex):
    """Wire chain_id: a profile name, or a 64-hex-digit display hash."""
    disp = GENESIS_DISPLAY.get(name_or_hex, name_or_hex)
    raw = bytes.fromhex(disp)
    if len(raw) != 32:
        raise ValueError("chain: want a profile name or 64 hex digits")
    return raw[::-1]


# ---- SPEC §8 (python3-nacl) --------------------------------------------------


def identity(seed=None):
    """An Ed25519 identity (nacl SigningKey) from a 32-byte seed or random;
    its verify key's bytes are the node_id."""
    from nacl.signing import SigningKey
    return SigningKey(seed) if seed is not None else SigningKey.generate()


def auth_hello_fields(ident, chain_id, nonce, bad_sig=False):
    """HELLO fields for auth_mode 1: node_id, a fresh X25519 ephemeral key
    and the signature over "sluice-hello-v1" || chain_id || eph || nonce
    (one bit flipped with bad_sig).  Returns (fields, ephemeral secret)."""
    from nacl.bindings import crypto_kx_keypair
    pk, sk = crypto_kx_keypair()
    msg = b"sluice-hello-v1" + chain_id + pk + struct.pack(">Q", nonce)
    sig = bytearray(ident.sign(msg).signature)
    if bad_sig:
        sig[5] ^= 0x10
    return dict(auth_mode=AUTH_X25519, node_id=bytes(ident.verify_key),
                ephemeral_pubkey=pk, sig=bytes(sig)), sk


# ---- codec -----------------------------------------------------------------


class FrameError(ValueError):
    """A malformed frame or undecodable payload.  `reason` is a short name in
    the style of the node's drop counters (sl_magic, sl_length, sl_payload)."""

    def __init__(self, reason, detail=""):
        super().__init__("%s: %s" % (reason, detail) if detail else reason)
        self.reason = reason


HDR = struct.Struct(">HBBBBHIIQ")
assert HDR.size == HDR_LEN

# (stream, type) -> (name, [(field, struct code)]) for fixed layouts; the
# variable ones (PEERS, HEADERS, and the HELLO/HELLO_ACK pubkey) are special
# cased below.
_FIXED = {
    (0, T_HELLO): ("HELLO", [("proto_min", "B"), ("proto_max", "B"),
                             ("auth_mode", "H"), ("streams_offered", "I"),
                             ("chain_id", "32s"), ("node_id", "32s"),
                             ("nonce", "Q"), ("reply_session", "I"),
                             ("best_height", "I"), ("best_hash", "32s")]),
    (0, T_HELLO_ACK): ("HELLO_ACK", [("streams_accepted", "I"), ("auth_mode", "H"),
                                     ("reserved", "H"), ("node_id", "32s"),
                                     ("nonce", "Q"), ("reply_session", "I"),
                                     ("best_height", "I"), ("best_hash", "32s")]),
    (0, T_REJECT): ("REJECT", [("reason", "H"), ("retry_after_s", "H")]),
    (0, T_PING): ("PING", [("sender_time_ns", "Q")]),
    (0, T_PONG): ("PONG", [("sender_time_ns", "Q")]),
    (0, T_GOODBYE): ("GOODBYE", [("reason", "H")]),
    (0, T_BACKOFF): ("BACKOFF", [("backoff_ms", "I")]),
    (1, T_GET_PEERS): ("GET_PEERS", [("max", "H")]),
    (1, T_PEERS): ("PEERS", [("n", "B"), ("reserved", "3s")]),
    (5, T_STATUS): ("STATUS", [("best_height", "I"), ("best_hash", "32s"),
                               ("chainwork", "32s"), ("finalized_height", "I")]),
    (5, T_GET_HEADERS): ("GET_HEADERS", [("start_height", "I"), ("count", "H"),
                                         ("reserved", "H"), ("anchor_hash", "32s")]),
    (5, T_HEADERS): ("HEADERS", [("start_height", "I"), ("n", "B"),
                                 ("flags", "B"), ("reserved", "H")]),
    (5, T_NOT_FOUND): ("NOT_FOUND", [("start_height", "I"), ("reason", "H")]),
    (5, T_NEW_BLOCK): ("NEW_BLOCK", [("height", "I"), ("header", "80s")]),
}
_STRUCTS = {k: struct.Struct(">" + "".join(c for _, c in f)) for k, (_, f) in _FIXED.items()}
MSG = {name: key for key, (name, _) in _FIXED.items()}  # "PING" -> (0, 4)
PEER_ENTRY = struct.Struct(">IHH32sI")
assert PEER_ENTRY.size == 44
assert _STRUCTS[MSG["HELLO"]].size == 120 and _STRUCTS[MSG["HELLO_ACK"]].size == 88
assert _STRUCTS[MSG["STATUS"]].size == 72 and _STRUCTS[MSG["GET_HEADERS"]].size == 40
assert _STRUCTS[MSG["NEW_BLOCK"]].size == 84 and _STRUCTS[MSG["HEADERS"]].size == 8


def msg_name(stream, typ):
    e = _FIXED.get((stream, typ))
    return e[0] if e else None


def _ip_int(ip):
    return ip if isinstance(ip, int) else struct.unpack(">I", socket.inet_aton(ip))[0]


def encode_payload(name, **fields):
    """Payload bytes of message `name`.  Missing fields are zero; values are
    not range-checked (so tests can build wrong ones).  HELLO/HELLO_ACK take
    `ephemeral_pubkey` and `sig` (the §8 trailer, appended when the key is
    given; sig defaults to zeros); PEERS takes `entries` (dicts:
    ipv4 (str or int), port, flags, node_id, last_seen_unix); HEADERS takes
    `headers` (80-byte strings).  `n` defaults to the list length."""
    key = MSG[name]
    flds = _FIXED[key][1]
    if name == "PEERS":
        fields.setdefault("n", len(fields.get("entries", ())))
    if name == "HEADERS":
        fields.setdefault("n", len(fields.get("headers", ())))
    vals = []
    for f, code in flds:
        v = fields.get(f)
        if v is None:
            v = bytes(int(code[:-1])) if code.endswith("s") else 0
        vals.append(v)
    out = _STRUCTS[key].pack(*vals)
    if name in ("HELLO", "HELLO_ACK") and fields.get("ephemeral_pubkey") is not None:
        out += fields["ephemeral_pubkey"] + fields.get("sig", bytes(SIG_LEN))
    elif name == "PEERS":
        for e in fields.get("entries", ()):
            out += PEER_ENTRY.pack(_ip_int(e.get("ipv4", 0)), e.get("port", 0),
                                   e.get("flags", 0), e.get("node_id", bytes(32)),
                                   e.get("last_seen_unix", 0))
    elif name == "HEADERS":
        out += b"".join(fields.get("headers", ()))
    return out


def _need(cond, detail):
    if not cond:
        raise FrameError("sl_payload", detail)


def _check_values(name, d, strict):
    """Value rules of SPEC §4–§6 that make a payload undecodable."""
    if name in ("HELLO", "HELLO_ACK"):
        return
    if name == "REJECT":
        _need(d["reason"] in REJECT_REASONS or not strict, "REJECT reason")
    elif name == "GOODBYE":
        _need(d["reason"] in GOODBYE_REASONS or not strict, "GOODBYE reason")
    elif name == "GET_PEERS":
        _need(1 <= d["max"] <= PEERS_MAX or not strict, "GET_PEERS max not in 1..32")
    elif name == "GET_HEADERS":
        # count > 2000 decodes (SPEC: answered NOT_FOUND TOO_MANY); 0 does not.
        _need(d["count"] >= 1 or not strict, "GET_HEADERS count 0")
        _need(d["start_height"] != 0 or d["anchor_hash"] == bytes(32) or not strict,
              "GET_HEADERS start 0 with an anchor")
    elif name == "NOT_FOUND":
        _need(d["reason"] in NOT_FOUND_REASONS or not strict, "NOT_FOUND reason")


def decode_payload(stream, typ, payload, strict=True):
    """Decode one payload into (name, dict).  Raises FrameError('sl_payload')
    on an unknown (stream, type), a wrong length, a non-zero reserved field,
    or (strict) a value outside its SPEC range."""
    key = (stream, typ)
    if key not in _FIXED:
        raise FrameError("sl_payload", "no message %d on stream %d" % (typ, stream))
    name, flds = _FIXED[key]
    st = _STRUCTS[key]
    n = len(payload)
    if name in ("HELLO", "HELLO_ACK"):
        _need(n >= st.size, "%s shorter than %d" % (name, st.size))
        d = dict(zip((f for f, _ in flds), st.unpack_from(payload)))
        want = st.size + (PUBKEY_LEN + SIG_LEN if d["auth_mode"] == AUTH_X25519 else 0)
        _need(n == want, "%s length %d, want %d" % (name, n, want))
        if n > st.size:
            d["ephemeral_pubkey"] = bytes(payload[st.size:st.size + PUBKEY_LEN])
            d["sig"] = bytes(payload[st.size + PUBKEY_LEN:])
        _need(d.get("reserved", 0) == 0 or not strict, "HELLO_ACK reserved")
        return name, d
    if name in ("PEERS", "HEADERS"):
        _need(n >= st.size, name + " shorter than its prefix")
        d = dict(zip((f for f, _ in flds), st.unpack_from(payload)))
        if name == "PEERS":
            _need(d["n"] <= PEERS_MAX, "PEERS n > 32")
            _need(d["reserved"] == bytes(3), "PEERS reserved")
            _need(n == 4 + 44 * d["n"], "PEERS length %d for n=%d" % (n, d["n"]))
            d["entries"] = []
            for i in range(d["n"]):
                ip, port, fl, nid, seen = PEER_ENTRY.unpack_from(payload, 4 + 44 * i)
                d["entries"].append({"ipv4": socket.inet_ntoa(struct.pack(">I", ip)),
                                     "port": port, "flags": fl, "node_id": nid,
                                     "last_seen_unix": seen})
        else:
            _need(1 <= d["n"] <= HEADERS_MAX_N, "HEADERS n not in 1..17")
            _need(d["flags"] & ~1 == 0 and d["reserved"] == 0, "HEADERS flags/reserved")
            _need(n == 8 + 80 * d["n"], "HEADERS length %d for n=%d" % (n, d["n"]))
            d["headers"] = [bytes(payload[8 + 80 * i:88 + 80 * i]) for i in range(d["n"])]
            d["last"] = bool(d["flags"] & 1)
        return name, d
    _need(n == st.size, "%s length %d, want %d" % (name, n, st.size))
    d = dict(zip((f for f, _ in flds), st.unpack(payload)))
    _need(d.get("reserved", 0) == 0 or not strict, name + " reserved")
    _check_values(name, d, strict)
    return name, d


def encode_frame(stream, typ, session, seq, corr, payload, flags=0, *, magic=MAGIC,
                 version=VERSION, length=None, tag=b""):
    """One frame: the 24-byte header (§2), the payload, then `tag` (16 bytes
    when flags has AUTH).  `length` defaults to len(payload); magic, version
    and length can be overridden to build malformed frames."""
    if length is None:
        length = len(payload)
    return HDR.pack(magic, version, typ, stream, flags, length, session, seq, corr) \
        + bytes(payload) + bytes(tag)


def decode_header(data):
    """Check the §2 header of one datagram and split it.  Raises FrameError
    (sl_short, sl_oversize, sl_magic, sl_version, sl_flags, sl_length)."""
    if len(data) < HDR_LEN:
        raise FrameError("sl_short", "%d bytes" % len(data))
    if len(data) > MAX_UDP:
        raise FrameError("sl_oversize", "%d bytes" % len(data))
    magic, ver, typ, stream, flags, length, session, seq, corr = HDR.unpack_from(data)
    if magic != MAGIC:
        raise FrameError("sl_magic", "0x%04x" % magic)
    if ver != VERSION:
        raise FrameError("sl_version", str(ver))
    if flags & ~F_MASK:
        raise FrameError("sl_flags", "0x%02x" % flags)
    tag_len = TAG_LEN if flags & F_AUTH else 0
    if HDR_LEN + length + tag_len != len(data):
        raise FrameError("sl_length", "length %d (+tag %d) in %d bytes" % (length, tag_len, len(data)))
    end = HDR_LEN + length
    return {"magic": magic, "version": ver, "type": typ, "stream": stream,
            "flags": flags, "length": length, "session": session, "seq": seq,
            "corr": corr, "payload": bytes(data[HDR_LEN:end]),
            "tag": bytes(data[end:]) if tag_len else None,
            "msg": msg_name(stream, typ)}


def decode_frame(data, strict=True):
    """Decode one datagram into a dict: the header fields, `payload` (bytes),
    `tag`, `msg` (the SPEC name) and `body` (the decoded payload fields).
    Raises FrameError on a malformed header or an undecodable payload."""
    f = decode_header(data)
    f["msg"], f["body"] = decode_payload(f["stream"], f["type"], f["payload"], strict)
    return f


def build(name, session, seq, corr=0, hflags=0, **fields):
    """Frame bytes of message `name` with payload fields (`hflags`: the
    header flags; `flags` is a payload field of HEADERS)."""
    stream, typ = MSG[name]
    return encode_frame(stream, typ, session, seq, corr, encode_payload(name, **fields), hflags)


def jsonable(o):
    """bytes -> hex, tuples -> lists, recursively (for JSON output)."""
    if isinstance(o, (bytes, bytearray)):
        return o.hex()
    if isinstance(o, dict):
        return {k: jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    return o


def describe(f):
    """A frame dict reduced for printing: message name, header ids, body,
    reason names."""
    if f is None:
        return None
    if "error" in f:
        return {"malformed": f["error"], "detail": f.get("detail"), "raw": f.get("raw", b"")}
    d = {"msg": f["msg"], "stream": f["stream"], "session": f["session"],
         "seq": f["seq"], "corr": f["corr"], "flags": f["flags"]}
    d.update(f.get("body") or {})
    names = {"REJECT": REJECT_REASONS, "GOODBYE": GOODBYE_REASONS,
             "NOT_FOUND": NOT_FOUND_REASONS}.get(f["msg"])
    if names:
        d["reason_name"] = names.get(d["reason"], "?")
    if "src" in f:
        d["src"] = "%s:%d" % f["src"]
    for k in ("replay", "latency_us", "attempts"):
        if k in f:
            d[k] = f[k]
    return jsonable(d)


def streams_bits(lst):
    b = 0
    for s in lst:
        b |= 1 << int(s)
    return b


def streams_list(bits):
    return [i for i in range(32) if bits >> i & 1]


def emit(obj):
    print(json.dumps(jsonable(obj), sort_keys=True), flush=True)


def fail(msg):
    """A scenario's check failed: say what, exit 1."""
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def ok(msg):
    """A scenario's check held."""
    print("ok:", msg, flush=True)


def tel(path, cmd):
    """One DPDK telemetry command on the v2 socket at path (the stock
    client's protocol): the reply's data, keyed in the reply by the command
    without its parameter."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as c:
        c.settimeout(10)
        c.connect(path)
        n = json.loads(c.recv(1024).decode())["max_output_len"]
        c.send(cmd.encode())
        return json.loads(c.recv(n).decode())[cmd.split(",")[0]]


def tel_sessions(path, limit=100000):
    """Every live session of the dataplane's /sluice/sessions, paged with
    its start parameter until a reply is empty: ([(hex id, session)] in
    page order, [page sizes])."""
    got, sizes = [], []
    while len(sizes) < limit:
        page = tel(path, "/sluice/sessions,%d" % len(got))
        sizes.append(len(page))
        if not page:
            break
        got.extend(page.items())
    return got, sizes


def stat_totals(stats, depth=2):
    """The dataplane's counter totals (summed over lcores) in a `sluicectl
    stats` answer: the first object holding a scalar rx_pkts."""
    if isinstance(stats, dict):
        if "rx_pkts" in stats and not isinstance(stats["rx_pkts"], (dict, list)):
            return stats
        for v in stats.values() if depth > 0 else ():
            t = stat_totals(v, depth - 1)
            if t is not None:
                return t
    return None


def pump(peers, secs):
    """Read every peer's frames for `secs` (PINGs are answered, the rest
    dropped): keeps many idle sessions alive."""
    end = time.monotonic() + secs
    while True:
        for p in peers:
            p.drain()
            p.backlog.clear()
        left = end - time.monotonic()
        if left <= 0:
            return
        select.select([p.sock for p in peers[:256]], [], [], min(left, 0.05))


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- anti-replay (§2) ------------------------------------------------------


class ReplayWindow:
    """64-frame window per (session, stream): accept() is False for seq 0, a
    duplicate, or a seq 64 or more below the highest seen."""

    def __init__(self):
        self.top = 0
        self.bits = 0

    def accept(self, seq):
        if seq == 0:
            return False
        if seq > self.top:
            shift = seq - self.top
            self.bits = ((self.bits << shift) | 1) & ((1 << REPLAY_WINDOW) - 1) \
                if shift < REPLAY_WINDOW else 1
            self.top = seq
            return True
        off = self.top - seq
        if off >= REPLAY_WINDOW or self.bits >> off & 1:
            return False
        self.bits |= 1 << off
        return True


def _rand_u32():
    while True:
        v = secrets.randbits(32)
        if v:
            return v


def _addr(s, default_port=DEFAULT_PORT):
    host, _, port = s.rpartition(":")
    if not host:
        return (s, default_port)
    return (host, int(port))


# ---- the initiator ---------------------------------------------------------


class Peer:
    """One sluice session, this side the initiator.  `session` is the id we
    put in frames to the node (HELLO_ACK.reply_session); `reply_session` is
    the id the node puts in frames to us (chosen here, sent in HELLO).  PINGs
    for our session are answered automatically whenever frames are read.
    Like a sluice node, it PINGs at once when a HELLO_ACK (auth_mode 0)
    arrives: that first frame proves our address to the node's admission
    (an unproven session can be evicted by newer HELLOs).  Its PONG is
    swallowed, so callers see the session as if it had stayed silent; set
    `prove` False for a peer that really stays silent."""

    def __init__(self, bind=("0.0.0.0", 0), node_id=None, chain="regtest", chain_id=None,
                 reply_session=None, best_height=0, best_hash=None, honour_backoff=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(bind)
        self.addr = self.sock.getsockname()
        self.node_id = node_id or secrets.token_bytes(32)
        self.chain_id = chain_id or chain_id_of(chain)
        self.reply_session = reply_session or _rand_u32()
        self.best_height = best_height
        self.best_hash = best_hash if best_hash is not None else self.chain_id
        self.honour_backoff = honour_backoff
        self.answer_pings = True
        self.prove = True
        self.prove_t = None  # sender_time_ns of the proving PING
        self.session = None
        self.remote = None
        self.streams = 0
        self.nonce = None
        self.closed = None  # GOODBYE reason received, if any
        self.backoff_until = 0.0
        self.tx_seq = {}
        self.rx_win = {}
        self.hello_seq = 0
        self.last_hello = None
        self.backlog = collections.deque(maxlen=4096)
        self.stats = collections.Counter()

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    # -- sending
    def next_seq(self, stream):
        self.tx_seq[stream] = (self.tx_seq.get(stream, 0) + 1) & 0xFFFFFFFF
        return self.tx_seq[stream]

    def send_raw(self, data, dst=None):
        try:
            self.sock.sendto(data, dst or self.remote)
        except (BlockingIOError, OSError):
            self.stats["send_fail"] += 1
            return None
        self.stats["tx"] += 1
        return data

    def send(self, stream, typ, payload=b"", corr=0, seq=None, session=None, flags=0,
             raw=None, dst=None):
        """Send one frame on our session (or `session`); `raw` sends those
        bytes verbatim.  seq defaults to the next of this stream; an explicit
        one moves the counter forward only.  While a received BACKOFF runs,
        non-session streams are held back (returns None) if honour_backoff."""
        if raw is not None:
            return self.send_raw(raw, dst)
        if self.honour_backoff and stream != S_SESSION and time.monotonic() < self.backoff_until:
            self.stats["held_by_backoff"] += 1
            return None
        if seq is None:
            seq = self.next_seq(stream)
        elif seq > self.tx_seq.get(stream, 0):
            self.tx_seq[stream] = seq
        sess = self.session if session is None else session
        return self.send_raw(encode_frame(stream, typ, sess or 0, seq, corr, payload, flags), dst)

    def send_msg(self, name, corr=0, seq=None, session=None, hflags=0, dst=None, **fields):
        """send() of message `name` built from payload fields."""
        stream, typ = MSG[name]
        return self.send(stream, typ, encode_payload(name, **fields), corr, seq, session,
                         hflags, dst=dst)

    # -- receiving
    def _ingest(self, data, src):
        try:
            f = decode_frame(data)
        except FrameError as e:
            self.stats["rx_malformed"] += 1
            return {"error": e.reason, "detail": str(e), "raw": data, "src": src,
                    "rx_time": time.monotonic()}
        f["src"] = src
        f["rx_time"] = time.monotonic()
        self.stats["rx"] += 1
        if f["session"] == self.reply_session:
            w = self.rx_win.setdefault(f["stream"], ReplayWindow())
            f["replay"] = not w.accept(f["seq"])
            self._auto(f)
        return f

    def _auto(self, f):
        m = f["msg"]
        if m == "PONG" and self.prove_t is not None and \
                f["body"]["sender_time_ns"] == self.prove_t:
            self.prove_t = None
            f["prove_pong"] = True
            self.stats["prove_pongs"] += 1
        elif m == "PING":
            self.stats["pings_rx"] += 1
            if self.answer_pings and self.session is not None and not f["replay"]:
                self.send(S_SESSION, T_PONG, f["payload"], corr=f["corr"], dst=f["src"])
                self.stats["pongs_tx"] += 1
        elif m == "GOODBYE":
            self.closed = f["body"]["reason"]
        elif m == "BACKOFF":
            self.backoff_until = time.monotonic() + f["body"]["backoff_ms"] / 1000.0
            self.stats["backoff_rx"] += 1

    def _read(self, timeout):
        end = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([self.sock], [], [], max(0.0, end - time.monotonic()))
            if not r:
                return None
            data, src = self.sock.recvfrom(65535)
            f = self._ingest(data, src)
            if not f.get("prove_pong"):
                return f

    def drain(self):
        """Read every datagram already queued, without waiting."""
        out = []
        while True:
            try:
                data, src = self.sock.recvfrom(65535, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return out
            f = self._ingest(data, src)
            if not f.get("prove_pong"):
                out.append(f)

    def recv(self, timeout=1.0, filter=None):
        """The first frame (decoded dict; malformed ones carry `error`) that
        `filter` accepts within `timeout`, or None.  Frames it skips are kept
        for later calls."""
        for i, f in enumerate(self.backlog):
            if filter is None or filter(f):
                del self.backlog[i]
                return f
        end = time.monotonic() + timeout
        while True:
            f = self._read(end - time.monotonic())
            if f is None:
                return None
            if filter is None or filter(f):
                return f
            self.backlog.append(f)

    def collect(self, seconds):
        """Every frame that arrives within `seconds` (plus the backlog)."""
        out = list(self.backlog)
        self.backlog.clear()
        end = time.monotonic() + seconds
        while True:
            f = self._read(end - time.monotonic())
            if f is None:
                return out
            out.append(f)

    def pump(self, timeout=0.1):
        """Handle whatever arrives within timeout (answers PINGs); returns
        the frames."""
        return self.collect(timeout)

    def run_for(self, seconds, on_frame=None, ping_every=0.0):
        """Stay alive `seconds`: answer PINGs, optionally PING every
        ping_every s; stops early on GOODBYE.  on_frame(f) sees every frame."""
        end = time.monotonic() + seconds
        next_ping = time.monotonic() + ping_every if ping_every else None
        while self.closed is None:
            now = time.monotonic()
            if now >= end:
                break
            if next_ping and now >= next_ping:
                self.send_msg("PING", sender_time_ns=time.monotonic_ns())
                next_ping = now + ping_every
            wait = end - now if not next_ping else min(end, next_ping) - now
            f = self._read(wait)
            if f is not None and on_frame:
                on_frame(f)
        return self.closed

    # -- the session stream
    def hello_frame(self, streams=STREAMS_DEFAULT, nonce=None, proto=(1, 1), auth_mode=0,
                    chain_id=None, node_id=None, session=0, pubkey=None, payload_cut=None,
                    ident=None, bad_sig=False):
        """HELLO bytes (§4).  Every field can be overridden.  With `ident`
        (identity()) the HELLO is auth_mode 1, signed per §8."""
        self.nonce = nonce if nonce is not None else secrets.randbits(64)
        self.hello_seq += 1
        extra = {"ephemeral_pubkey": pubkey}
        if ident is not None:
            extra, _ = auth_hello_fields(ident, chain_id or self.chain_id, self.nonce, bad_sig)
            auth_mode, node_id = extra.pop("auth_mode"), extra.pop("node_id")
        pl = encode_payload("HELLO", proto_min=proto[0], proto_max=proto[1],
                            auth_mode=auth_mode, streams_offered=streams,
                            chain_id=chain_id or self.chain_id,
                            node_id=node_id or self.node_id, nonce=self.nonce,
                            reply_session=self.reply_session,
                            best_height=self.best_height, best_hash=self.best_hash, **extra)
        if payload_cut is not None:
            pl = pl[:payload_cut]
        self.last_hello = encode_frame(S_SESSION, T_HELLO, session, self.hello_seq, 0, pl)
        return self.last_hello

    def hello_match(self, f, dst):
        """'ack' / 'reject' when f answers our current HELLO, else None."""
        if "error" in f or f["src"] != dst or f["session"] != self.reply_session:
            return None
        if f["msg"] == "HELLO_ACK" and f["body"]["nonce"] == self.nonce:
            return "ack"
        if f["msg"] == "REJECT":
            return "reject"
        return None

    def hello_done(self, f, dst):
        if f["msg"] == "HELLO_ACK":
            self.session = f["body"]["reply_session"]
            self.remote = dst
            self.streams = f["body"]["streams_accepted"]
            self.closed = None
            self.tx_seq = {}
            if self.prove and f["body"].get("auth_mode", 0) == 0:
                self.prove_t = time.monotonic_ns()
                self.send_msg("PING", sender_time_ns=self.prove_t)
        return f

    def hello(self, dst, streams=STREAMS_DEFAULT, nonce=None, timeout=3.0, **kw):
        """HELLO until HELLO_ACK, REJECT or `timeout` (retries with backoff,
        §4).  Returns the reply frame dict (plus latency_us, attempts) or
        None.  After an ACK, self.session / self.streams are set."""
        res = handshake_many([self], dst, timeout=timeout, concurrency=1,
                             hello_kw=dict(streams=streams, nonce=nonce, **kw),
                             retry_rate_limited=False)
        return res[0].get("frame")

    def ping(self, timeout=1.0):
        """PING our session; RTT in seconds, or None without a PONG."""
        t = time.monotonic_ns()
        if self.send_msg("PING", sender_time_ns=t) is None:
            return None
        f = self.recv(timeout, lambda f: f.get("msg") == "PONG" and
                      f["session"] == self.reply_session and
                      f["body"]["sender_time_ns"] == t)
        return None if f is None else (time.monotonic_ns() - t) / 1e9

    def goodbye(self, reason=GOODBYE["SHUTDOWN"]):
        self.send_msg("GOODBYE", reason=reason)
        self.closed = reason

    def get_peers(self, max=PEERS_MAX, timeout=1.0):
        """GET_PEERS(max); the PEERS entries, or None without an answer."""
        corr = secrets.randbits(63) | 1
        if self.send_msg("GET_PEERS", corr=corr, max=max) is None:
            return None
        f = self.recv(timeout, lambda f: f.get("msg") == "PEERS" and f["corr"] == corr)
        return None if f is None else f["body"]["entries"]


def handshake_many(peers, dst, timeout=5.0, concurrency=64, hello_kw=None,
                   retry_first=0.25, retry_max=2.0, retry_rate_limited=True):
    """HELLO from every peer (at most `concurrency` in flight), each retried
    with doubling backoff until HELLO_ACK, REJECT or its own `timeout`.
    REJECT(RATE_LIMITED) is retried after retry_after_s with a fresh nonce
    when retry_rate_limited.  Returns one dict per peer: ok, frame (the
    reply, or None), latency_us (first HELLO -> reply), attempts."""
    kw = dict(hello_kw or {})
    results = [None] * len(peers)
    todo = list(range(len(peers)))[::-1]
    active = {}
    poller = select.poll()

    def fire(st):
        p = peers[st["i"]]
        st["attempts"] += 1
        if st["fresh"]:
            p.rx_win = {}
            p.send_raw(p.hello_frame(**kw), dst)
            st["fresh"] = False
        else:
            p.send_raw(p.last_hello, dst)
        st["next"] = time.monotonic() + st["interval"]
        st["interval"] = min(st["interval"] * 2, retry_max)

    def finish(st, f):
        p = peers[st["i"]]
        poller.unregister(p.fileno())
        del active[p.fileno()]
        r = {"ok": bool(f and f["msg"] == "HELLO_ACK"), "frame": f,
             "attempts": st["attempts"], "latency_us": None}
        if f is not None:
            r["latency_us"] = int((f["rx_time"] - st["t0"]) * 1e6)
            f["latency_us"], f["attempts"] = r["latency_us"], st["attempts"]
            p.hello_done(f, dst)
        results[st["i"]] = r

    while todo or active:
        while todo and len(active) < concurrency:
            i = todo.pop()
            now = time.monotonic()
            st = {"i": i, "t0": now, "deadline": now + timeout, "attempts": 0,
                  "interval": retry_first, "fresh": True, "next": now}
            active[peers[i].fileno()] = st
            poller.register(peers[i].fileno(), select.POLLIN)
            fire(st)
        now = time.monotonic()
        wake = min(min(s["next"], s["deadline"]) for s in active.values())
        for fd, _ in poller.poll(max(0, min(wake - now, 0.05)) * 1000):
            st = active.get(fd)
            if st is None:
                continue
            p = peers[st["i"]]
            for f in p.drain():
                kind = p.hello_match(f, dst) if fd in active else None
                if kind is None:  # not the answer, or after it: keep it
                    p.backlog.append(f)
                    continue
                if kind == "reject" and retry_rate_limited and \
                        f["body"]["reason"] == REJECT["RATE_LIMITED"]:
                    wait = max(f["body"]["retry_after_s"], 0.2)
                    if time.monotonic() + wait < st["deadline"]:
                        st["next"] = time.monotonic() + wait
                        st["fresh"] = True  # a cached answer is not wanted
                        st["interval"] = retry_first
                        continue
                finish(st, f)
        now = time.monotonic()
        for st in list(active.values()):
            if now >= st["deadline"]:
                finish(st, None)
            elif now >= st["next"]:
                fire(st)
    return results


# ---- the responder (the node's side) ---------------------------------------


class Responder:
    """The node's side of §4/§6, strict: accepts HELLO (admission: version,
    auth, chain, self, duplicate, capacity; idempotent repeats within 10 s),
    answers HELLO_ACK with a slot·generation session id, PING with PONG,
    GET_PEERS with `peers`; drops malformed frames, unknown sessions, wrong
    source, non-negotiated streams and replays silently, counting each in
    `drops`; an undecodable payload gets GOODBYE(PROTOCOL) and teardown."""

    def __init__(self, bind=("127.0.0.1", 0), chain="regtest", chain_id=None, node_id=None,
                 peers=(), max_sessions=4096, streams=0b1100011, on_event=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(bind)
        self.addr = self.sock.getsockname()
        self.chain_id = chain_id or chain_id_of(chain)
        self.node_id = node_id or secrets.token_bytes(32)
        self.peers = list(peers)
        self.max_sessions = max_sessions
        self.streams = streams | 1
        self.on_event = on_event
        self.sessions = {}
        self.slot_gen = {}
        self.hello_cache = {}
        self.self_nonces = set()
        self.drops = collections.Counter()
        self.stats = collections.Counter()
        self.stop = threading.Event()

    def _event(self, **e):
        self.stats["ev_" + e["event"]] += 1
        if self.on_event:
            self.on_event(e)

    def _tx(self, s, name, corr=0, **fields):
        stream, _ = MSG[name]
        s["tx_seq"][stream] = s["tx_seq"].get(stream, 0) + 1
        data = build(name, s["peer_session"], s["tx_seq"][stream], corr, **fields)
        self.sock.sendto(data, s["addr"])
        return data

    def _new_id(self):
        slot = 1
        while any(k >> 16 == slot for k in self.sessions):
            slot += 1
        gen = (self.slot_gen.get(slot, 0) % 0xFFFF) + 1
        self.slot_gen[slot] = gen
        return slot << 16 | gen

    def _teardown(self, sid, why):
        s = self.sessions.pop(sid, None)
        if s:
            self._event(event="session_down", session=sid, why=why)

    def _reject(self, h, src, reason):
        data = build("REJECT", h["reply_session"], 1, reason=REJECT[reason],
                     retry_after_s=1 if reason == "RATE_LIMITED" else 0)
        self.sock.sendto(data, src)
        self._event(event="reject", reason=reason, addr="%s:%d" % src)
        return data

    def _admit(self, f, src):
        try:
            _, h = decode_payload(S_SESSION, T_HELLO, f["payload"])
        except FrameError as e:
            self.drops[e.reason] += 1
            return
        key = (h["node_id"], h["nonce"])
        now = time.monotonic()
        c = self.hello_cache.get(key)
        if c and now - c[1] < HELLO_IDEMPOTENT_S and c[2] == src:
            self.sock.sendto(c[0], src)
            self._event(event="hello_repeat", addr="%s:%d" % src)
            return
        reason = None
        if not h["proto_min"] <= VERSION <= h["proto_max"]:
            reason = "VERSION"
        elif h["auth_mode"] != AUTH_NONE:
            reason = "AUTH"
        elif h["chain_id"] != self.chain_id:
            reason = "CHAIN_MISMATCH"
        elif h["nonce"] in self.self_nonces or h["node_id"] == self.node_id:
            reason = "SELF"
        elif any(s["node_id"] == h["node_id"] for s in self.sessions.values()):
            reason = "DUPLICATE"
        elif len(self.sessions) >= self.max_sessions:
            reason = "FULL"
        if reason:
            self.hello_cache[key] = (self._reject(h, src, reason), now, src)
            return
        sid = self._new_id()
        s = {"id": sid, "addr": src, "peer_session": h["reply_session"],
             "node_id": h["node_id"], "streams": (h["streams_offered"] & self.streams) | 1,
             "tx_seq": {}, "rx_win": {}}
        self.sessions[sid] = s
        ack = self._tx(s, "HELLO_ACK", streams_accepted=s["streams"], auth_mode=0,
                       node_id=self.node_id, nonce=h["nonce"], reply_session=sid,
                       best_height=0, best_hash=self.chain_id)
        self.hello_cache[key] = (ack, now, src)
        self._event(event="session_up", session=sid, addr="%s:%d" % src,
                    streams=streams_list(s["streams"]), node_id=h["node_id"].hex())

    def handle(self, data, src):
        try:
            f = decode_header(data)
        except FrameError as e:
            self.drops[e.reason] += 1
            return
        if f["session"] == 0:
            if (f["stream"], f["type"]) != (S_SESSION, T_HELLO):
                self.drops["sl_no_session"] += 1
                return
            self._admit(f, src)
            return
        s = self.sessions.get(f["session"])
        if s is None:
            self.drops["sl_no_session"] += 1
            return
        if src != s["addr"]:
            self.drops["sl_source"] += 1
            return
        if not s["streams"] >> f["stream"] & 1 or f["stream"] >= 32:
            self.drops["sl_stream"] += 1
            return
        if not s["rx_win"].setdefault(f["stream"], ReplayWindow()).accept(f["seq"]):
            self.drops["sl_replay"] += 1
            return
        try:
            name, body = decode_payload(f["stream"], f["type"], f["payload"])
        except FrameError as e:
            self.drops[e.reason] += 1
            self._tx(s, "GOODBYE", reason=GOODBYE["PROTOCOL"])
            self._teardown(s["id"], "protocol")
            return
        self._dispatch(s, f, name, body)

    def _dispatch(self, s, f, name, body):
        sid = s["id"]
        if name == "PING":
            self._tx(s, "PONG", corr=f["corr"], sender_time_ns=body["sender_time_ns"])
            self._event(event="ping", session=sid)
        elif name == "GOODBYE":
            self._teardown(sid, "goodbye:" + GOODBYE_REASONS[body["reason"]])
        elif name == "GET_PEERS":
            entries = self.peers[:body["max"]]
            self._tx(s, "PEERS", corr=f["corr"], entries=entries)
            self._event(event="get_peers", session=sid, max=body["max"], n=len(entries))
        else:
            self._event(event="msg", session=sid, msg=name)

    def step(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if r:
            data, src = self.sock.recvfrom(65535)
            self.handle(data, src)

    def serve(self, seconds=None):
        """Answer until `seconds` pass or stop is set."""
        end = None if seconds is None else time.monotonic() + seconds
        while not self.stop.is_set() and (end is None or time.monotonic() < end):
            self.step(0.05 if end is None else min(0.05, end - time.monotonic()))

    def close(self):
        self.stop.set()
        self.sock.close()


def serve(bind, seconds, peers=(), **kw):
    """Run a Responder on `bind` for `seconds`; returns it (drops, stats)."""
    r = Responder(bind, peers=peers, **kw)
    r.serve(seconds)
    return r


# ---- flood -----------------------------------------------------------------


def flood_run(peers, seconds):
    """PING round-robin over `peers` (open sessions) as fast as the sockets
    take them for `seconds`; answers the node's PINGs, counts PONGs."""
    for p in peers:
        p.sock.setblocking(False)
    by_fd = {p.fileno(): p for p in peers}
    poller = select.poll()
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    sent = fails = pongs = 0
    t0 = time.monotonic()
    end = t0 + seconds
    pl = struct.Struct(">Q")
    while True:
        for p in peers:
            seq = p.next_seq(S_SESSION)
            data = encode_frame(S_SESSION, T_PING, p.session, seq, 0, pl.pack(time.monotonic_ns()))
            try:
                p.sock.sendto(data, p.remote)
                sent += 1
            except OSError:
                fails += 1
        for fd, _ in poller.poll(0):
            for f in by_fd[fd].drain():
                pongs += f.get("msg") == "PONG"
        if time.monotonic() >= end:
            break
    el = time.monotonic() - t0
    return {"frames_sent": sent, "send_fail": fails, "pongs": pongs, "seconds": round(el, 3)}


def flood(dst, sessions, seconds, bind_hosts=("0.0.0.0",), chain_id=None, workers=1,
          timeout=30.0, concurrency=64, streams=STREAMS_DEFAULT):
    """Open `sessions` sessions (distinct sockets / node_ids, spread over
    bind_hosts) and PING them round-robin for `seconds` from `workers`
    forked processes.  Returns the summary dict."""
    raise_nofile()
    workers = max(1, workers)
    peers = [Peer((bind_hosts[i % len(bind_hosts)], 0), chain_id=chain_id)
             for i in range(sessions)]
    t0 = time.monotonic()
    res = handshake_many(peers, dst, timeout=timeout, concurrency=concurrency,
                         hello_kw={"streams": streams})
    hs = time.monotonic() - t0
    live = [p for p, r in zip(peers, res) if r["ok"]]
    out = {"sessions_wanted": sessions, "sessions_open": len(live),
           "handshake_s": round(hs, 3)}
    rej = collections.Counter(REJECT_REASONS.get(r["frame"]["body"]["reason"], "?")
                              for r in res if r["frame"] and not r["ok"])
    out["rejects"] = dict(rej)
    if not live:
        out.update(frames_sent=0, fps=0)
        return out
    parts = []
    for w in range(workers):
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rd)
            mine = live[w::workers]
            r = flood_run(mine, seconds)
            r["seqs"] = [p.tx_seq.get(S_SESSION, 0) for p in mine]
            os.write(wr, json.dumps(r).encode())
            os._exit(0)
        os.close(wr)
        parts.append((pid, rd))
    tot = collections.Counter()
    for w, (pid, rd) in enumerate(parts):
        buf = b""
        while True:
            b = os.read(rd, 65536)
            if not b:
                break
            buf += b
        os.close(rd)
        os.waitpid(pid, 0)
        r = json.loads(buf or b"{}")
        # The child sent the PINGs: carry its seq counters back, so later
        # frames from this process are not replays.
        for p, seq in zip(live[w::workers], r.get("seqs", ())):
            p.tx_seq[S_SESSION] = seq
        tot.update({k: r.get(k, 0) for k in ("frames_sent", "send_fail", "pongs")})
        tot["seconds"] = max(tot["seconds"], r.get("seconds", 0))
    out.update(tot)
    sec = tot["seconds"] or seconds
    out["fps"] = int(tot["frames_sent"] / sec)
    out["pong_rate"] = int(tot["pongs"] / sec)
    time.sleep(0.5)  # let the node drain its queues: a GOODBYE is one datagram
    for p in live:
        p.sock.setblocking(True)
        p.goodbye()
    return out


# ---- hostile cases ---------------------------------------------------------


class CaseSetup(Exception):
    pass


class Ctx:
    """What a hostile case needs: the node's address, where to bind, the
    chain, how long to listen for an answer."""

    def __init__(self, dst, bind_host="0.0.0.0", alt_host=None, chain_id=None,
                 wait=0.6, timeout=3.0, probe=1.0):
        self.dst = dst
        self.bind_host = bind_host
        self.alt_host = alt_host or bind_host
        self.chain_id = chain_id or chain_id_of("regtest")
        self.wait = wait
        self.timeout = timeout
        self.probe = probe
        self.peers = []

    def peer(self, **kw):
        p = Peer((kw.pop("host", self.bind_host), 0), chain_id=self.chain_id, **kw)
        self.peers.append(p)
        return p

    def open(self, streams=STREAMS_DEFAULT, **kw):
        p = self.peer(**kw)
        r = p.hello(self.dst, streams=streams, timeout=self.timeout)
        if not r or r["msg"] != "HELLO_ACK":
            raise CaseSetup("handshake failed: %s" % json.dumps(describe(r)))
        return p

    def close(self):
        for p in self.peers:
            if p.session is not None and p.closed is None:
                p.goodbye()
            p.close()
        self.peers = []


IGNORED = ("PING", "STATUS", "NEW_BLOCK")  # unsolicited traffic a node may send


def classify(frames):
    """The replies reduced to one string: 'silent', or tokens like 'pong',
    'goodbye:PROTOCOL', 'reject:VERSION', 'malformed:sl_length' joined by
    commas in arrival order (PING / STATUS / NEW_BLOCK are ignored)."""
    toks = []
    for f in frames:
        if f is None:
            continue
        if "error" in f:
            toks.append("malformed:" + f["error"])
        elif f["msg"] in IGNORED:
            continue
        elif f["msg"] == "REJECT":
            toks.append("reject:" + REJECT_REASONS.get(f["body"]["reason"], "?"))
        elif f["msg"] == "GOODBYE":
            toks.append("goodbye:" + GOODBYE_REASONS.get(f["body"]["reason"], "?"))
        else:
            toks.append((f["msg"] or "type%d/%d" % (f["stream"], f["type"])).lower())
    return ",".join(toks) or "silent"


def _ping_frame(p, **over):
    """A PING for p's session with the next seq, header fields overridable."""
    seq = over.pop("seq", None)
    if seq is None:
        seq = p.next_seq(S_SESSION)
    pl = over.pop("payload", encode_payload("PING", sender_time_ns=time.monotonic_ns()))
    return encode_frame(over.pop("stream", S_SESSION), over.pop("type", T_PING),
                        over.pop("session", p.session), seq, 0, pl, **over)


def _session_raw(make, streams=STREAMS_DEFAULT):
    """Case: open a session, send make(p) (bytes or list), collect."""
    def fn(ctx):
        p = ctx.open(streams)
        raws = make(p)
        for raw in raws if isinstance(raws, list) else [raws]:
            p.send_raw(raw)
        return {"peer": p, "frames": p.collect(ctx.wait)}
    return fn


def _c_unknown_session(ctx):
    p = ctx.open()
    bogus = p.session ^ 0x5A5A0000 or 0x7FFF1234
    p.send_raw(_ping_frame(p, session=bogus))
    return {"peer": p, "frames": p.collect(ctx.wait)}


def _c_stale_generation(ctx):
    p = ctx.open()
    old = p.session
    p.goodbye()
    time.sleep(min(0.5, ctx.wait))
    p.node_id = secrets.token_bytes(32)
    r = p.hello(ctx.dst, timeout=ctx.timeout)
    if not r or r["msg"] != "HELLO_ACK":
        raise CaseSetup("second handshake failed: %s" % json.dumps(describe(r)))
    if p.session == old:
        return {"peer": p, "frames": [], "outcome": "same_session_id_reissued"}
    p.send_raw(_ping_frame(p, session=old))
    return {"peer": p, "frames": p.collect(ctx.wait), "old_session": old,
            "new_session": p.session}


def _c_wrong_source(ctx):
    p = ctx.open()
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.bind((ctx.alt_host, 0))
    try:
        q.sendto(_ping_frame(p), ctx.dst)
        frames = p.collect(ctx.wait)
        q.setblocking(False)
        try:
            while True:
                data, src = q.recvfrom(65535)
                frames.append(p._ingest(data, src))
        except BlockingIOError:
            pass
    finally:
        q.close()
    return {"peer": p, "frames": frames}


def _c_replay_duplicate(ctx):
    p = ctx.open()
    raw = _ping_frame(p)
    p.send_raw(raw)
    p.send_raw(raw)
    return {"peer": p, "frames": p.collect(ctx.wait)}


def _c_replay_too_old(ctx):
    p = ctx.open()
    low = p.next_seq(S_SESSION)
    high = low + 100
    p.send_raw(_ping_frame(p, seq=high))
    p.tx_seq[S_SESSION] = high
    p.send_raw(_ping_frame(p, seq=low))
    return {"peer": p, "frames": p.collect(ctx.wait)}


def _c_get_peers(mx, length=None):
    def fn(ctx):
        p = ctx.open()
        pl = struct.pack(">H", mx)
        if length is not None:
            pl = (pl + bytes(8))[:length]
        p.send(S_DISCOVERY, T_GET_PEERS, pl, corr=77)
        frames = p.collect(ctx.wait)
        r = {"peer": p, "frames": frames}
        for f in frames:
            if f.get("msg") == "PEERS" and (f["body"]["n"] > mx or f["corr"] != 77):
                r["outcome"] = "peers_bad(n=%d,corr=%d)" % (f["body"]["n"], f["corr"])
        return r
    return fn


def _c_hello(**kw):
    def fn(ctx):
        p = ctx.peer()
        r = p.hello(ctx.dst, timeout=ctx.timeout, **kw)
        return {"peer": p if r and r["msg"] == "HELLO_ACK" else None,
                "frames": [r] if r else []}
    return fn


def _c_hello_raw(**kw):
    def fn(ctx):
        p = ctx.peer()
        p.send_raw(p.hello_frame(**kw), ctx.dst)
        return {"peer": None, "frames": p.collect(ctx.wait)}
    return fn


def _c_hello_duplicate(ctx):
    a = ctx.open()
    b = ctx.peer(node_id=a.node_id)
    r = b.hello(ctx.dst, timeout=ctx.timeout)
    return {"peer": a, "frames": [r] if r else []}


def _c_hello_repeat(ctx):
    a = ctx.open()
    first = a.session
    a.send_raw(a.last_hello, ctx.dst)
    f = a.recv(ctx.timeout, lambda f: a.hello_match(f, ctx.dst) is not None)
    out = "silent"
    if f is not None:
        same = f["msg"] == "HELLO_ACK" and f["body"]["reply_session"] == first
        out = "hello_ack_same" if same else "different:" + classify([f])
    return {"peer": a, "frames": [f] if f else [], "outcome": out}


def _case(name, fn, expect, alive, drop, doc):
    return {"name": name, "fn": fn, "expect": expect, "alive": alive, "drop": drop,
            "doc": doc}


# One table: what to send, what the SPEC says must come back (`expect`, as
# classify() prints it), whether the session must still answer a PING after
# (`alive`, None = not checked), and the node drop counter we expect to move
# (`drop`, a hint for the scenario; None when SPEC names none).
HOSTILE_CASES = [
    _case("bad_magic", _session_raw(lambda p: _ping_frame(p, magic=0x5858)),
          "silent", True, "sl_magic", "§2 magic != 0x534C: malformed, never answered"),
    _case("bad_version", _session_raw(lambda p: _ping_frame(p, version=2)),
          "silent", True, "sl_version", "§2 version != 1"),
    _case("length_over", _session_raw(lambda p: _ping_frame(p, length=40)),
          "silent", True, "sl_length", "§2 length says 40, 8 bytes follow"),
    _case("length_under", _session_raw(lambda p: _ping_frame(p, length=4)),
          "silent", True, "sl_length", "§2 length says 4, 8 bytes follow"),
    _case("short_frame", _session_raw(lambda p: _ping_frame(p)[:13]),
          "silent", True, "sl_short", "§2 13 of the 24 header bytes"),
    _case("reserved_flags", _session_raw(lambda p: _ping_frame(p, flags=0x80)),
          "silent", True, "sl_flags", "§2 a reserved flag bit set"),
    _case("auth_without_tag", _session_raw(lambda p: _ping_frame(p, flags=F_AUTH)),
          "silent", True, "sl_length", "§2/§8 AUTH flag but no 16-byte tag: size disagrees"),
    _case("oversize", _session_raw(lambda p: _ping_frame(p, payload=bytes(MAX_UDP + 1 - HDR_LEN))),
          "silent", True, "sl_oversize",
          "§1 UDP payload 1473 > 1472 (on a 1500-MTU link the kernel fragments it: ip_fragment)"),
    _case("unknown_session", _c_unknown_session, "silent", True, "sl_no_session",
          "§2 session id not live: dropped silently (no reflection)"),
    _case("stale_generation", _c_stale_generation, "silent", True, "sl_no_session",
          "§2 id of a closed session (after GOODBYE and a new handshake)"),
    _case("wrong_source", _c_wrong_source, "silent", True, None,
          "live session id sent from another socket: source address mismatch"),
    _case("replay_duplicate", _c_replay_duplicate, "pong", True, "sl_replay",
          "§2 the same seq twice: one PONG only"),
    _case("replay_too_old", _c_replay_too_old, "pong", True, "sl_replay",
          "§2 seq 100 below the highest seen: outside the 64-frame window"),
    _case("seq_zero", _session_raw(lambda p: _ping_frame(p, seq=0)), "silent", True,
          "sl_replay", "§2 seq starts at 1: 0 is never valid"),
    _case("stream_not_negotiated",
          _session_raw(lambda p: _ping_frame(p, stream=S_DISCOVERY, type=T_GET_PEERS,
                                             payload=struct.pack(">H", 8)), streams=0b100001),
          "silent", True, "sl_stream", "§3 GET_PEERS on stream 1, session offered 0,5 only"),
    _case("stream_undefined",
          _session_raw(lambda p: _ping_frame(p, stream=9, type=1, payload=bytes(2))),
          "silent", True, "sl_stream", "§3 a frame on stream 9 (never negotiable)"),
    _case("ping_bad_length",
          _session_raw(lambda p: _ping_frame(p, payload=bytes(7))),
          "goodbye:PROTOCOL", False, "sl_payload", "§5 PING with a 7-byte payload: undecodable"),
    _case("pong_bad_length",
          _session_raw(lambda p: _ping_frame(p, type=T_PONG, payload=bytes(9))),
          "goodbye:PROTOCOL", False, "sl_payload", "§5 PONG with a 9-byte payload"),
    _case("unknown_type_stream0",
          _session_raw(lambda p: _ping_frame(p, type=42)),
          "goodbye:PROTOCOL", False, "sl_payload", "§5 type 42 on stream 0: undecodable"),
    _case("get_peers_max_zero", _c_get_peers(0), "goodbye:PROTOCOL", False, "sl_payload",
          "§6 GET_PEERS max 0 (range 1..32)"),
    _case("get_peers_max_33", _c_get_peers(33), "goodbye:PROTOCOL", False, "sl_payload",
          "§6 GET_PEERS max 33 (range 1..32)"),
    _case("get_peers_bad_length", _c_get_peers(8, length=3), "goodbye:PROTOCOL", False,
          "sl_payload", "§6 GET_PEERS with a 3-byte payload"),
    _case("get_peers_ok", _c_get_peers(8), "peers", True, None,
          "positive control: GET_PEERS max 8 -> PEERS n <= 8, corr echoed"),
    _case("hello_wrong_chain", _c_hello(chain_id=secrets.token_bytes(32)),
          "reject:CHAIN_MISMATCH", None, None, "§4 HELLO with another genesis hash"),
    _case("hello_bad_version", _c_hello(proto=(2, 2)), "reject:VERSION", None, None,
          "§4 HELLO offering protocol 2..2 only"),
    _case("hello_version_range", _c_hello(proto=(1, 3)), "hello_ack", True, None,
          "positive control: protocol 1..3 includes 1"),
    _case("hello_auth_unknown", _c_hello(auth_mode=7), "reject:AUTH", None, None,
          "§4 auth_mode 7 is not defined"),
    _case("hello_bad_length", _c_hello_raw(payload_cut=119), "silent", None, "sl_payload",
          "§4 HELLO payload 119 bytes: undecodable, no session to answer"),
    _case("hello_auth_no_pubkey", _c_hello_raw(auth_mode=AUTH_X25519), "silent", None,
          "sl_payload", "§4 auth_mode 1 but no 32-byte pubkey: length mismatch"),
    _case("hello_nonzero_session", _c_hello_raw(session=0x7FFF0001), "silent", None,
          "sl_no_session", "§2 HELLO must carry session 0; this id is not live"),
    _case("hello_duplicate_node_id", _c_hello_duplicate, "reject:DUPLICATE", True, None,
          "issue: a second session for a live node_id (fresh nonce)"),
    _case("hello_repeat", _c_hello_repeat, "hello_ack_same", True, None,
          "§4 the same (node_id, nonce) again within 10 s: the same HELLO_ACK"),
]
CASES_BY_NAME = {c["name"]: c for c in HOSTILE_CASES}


def run_case(ctx, case):
    """Run one HOSTILE_CASES entry; returns its JSON-able result with
    `pass` = (outcome == expect and alive as expected)."""
    res = {"case": case["name"], "expect": case["expect"], "expect_alive": case["alive"],
           "drop": case["drop"], "doc": case["doc"]}
    try:
        r = case["fn"](ctx)
        res["outcome"] = r.get("outcome") or classify(r["frames"])
        res["replies"] = [describe(f) for f in r["frames"] if f is not None]
        for k in ("old_session", "new_session"):
            if k in r:
                res[k] = r[k]
        res["alive"] = None
        if case["alive"] is not None and r.get("peer") is not None:
            res["alive"] = r["peer"].ping(ctx.probe) is not None
        res["pass"] = res["outcome"] == case["expect"] and \
            (case["alive"] is None or res["alive"] == case["alive"])
    except CaseSetup as e:
        res.update(outcome="setup_failed", error=str(e), **{"pass": False})
    finally:
        ctx.close()
    return res


# ---- self-test -------------------------------------------------------------


class SelfTest:
    def __init__(self):
        self.n = 0
        self.failed = []

    def check(self, cond, what):
        self.n += 1
        if not cond:
            self.failed.append(what)
            emit({"selftest": "FAIL", "check": what})


def _sample_fields():
    g = genesis_header("regtest")
    entry = {"ipv4": "10.1.2.3", "port": 9747, "flags": 5, "node_id": bytes(range(32)),
             "last_seen_unix": 1700000000}
    return {
        "HELLO": dict(proto_min=1, proto_max=2, auth_mode=0, streams_offered=0x23,
                      chain_id=bytes(range(32)), node_id=bytes(range(32, 64)),
                      nonce=0x0102030405060708, reply_session=0xA1B2C3D4,
                      best_height=77, best_hash=bytes(range(64, 96))),
        "HELLO_ACK": dict(streams_accepted=0x21, auth_mode=1, reserved=0,
                          node_id=bytes(range(32)), nonce=9, reply_session=0x10002,
                          best_height=5, best_hash=bytes(32), ephemeral_pubkey=bytes(range(32)),
                          sig=bytes(range(64, 128))),
        "REJECT": dict(reason=5, retry_after_s=30),
        "PING": dict(sender_time_ns=123456789),
        "PONG": dict(sender_time_ns=987654321),
        "GOODBYE": dict(reason=4),
        "BACKOFF": dict(backoff_ms=1500),
        "GET_PEERS": dict(max=32),
        "PEERS": dict(entries=[entry, dict(entry, port=1, ipv4="192.168.0.9")]),
        "STATUS": dict(best_height=1, best_hash=header_hash(g), chainwork=bytes(31) + b"\x02",
                       finalized_height=0),
        "GET_HEADERS": dict(start_height=1, count=2000, reserved=0, anchor_hash=header_hash(g)),
        "HEADERS": dict(start_height=0, flags=1, reserved=0, headers=[g] * 17),
        "NOT_FOUND": dict(start_height=9, reason=2),
        "NEW_BLOCK": dict(height=0, header=g),
    }


def _selftest_codec(t):
    for prof, disp in GENESIS_DISPLAY.items():
        h = header_hash(genesis_header(prof))
        t.check(h[::-1].hex() == disp, "genesis hash of %s" % prof)
        t.check(chain_id_of(prof) == h, "chain_id_of(%s) is the wire-order hash" % prof)
    for name, fields in _sample_fields().items():
        stream, typ = MSG[name]
        raw = build(name, 0x01020304, 0x05060708, 0x1112131415161718, **fields)
        f = decode_frame(raw)
        t.check(f["msg"] == name and f["stream"] == stream and f["type"] == typ,
                name + " name/stream/type")
        t.check(raw[:2] == b"\x53\x4c" and raw[2] == 1 and raw[3] == typ and raw[4] == stream
                and raw[5] == 0, name + " header bytes 0..5")
        t.check(raw[6:8] == struct.pack(">H", len(raw) - 24), name + " length at 6")
        t.check(raw[8:12] == bytes([1, 2, 3, 4]) and raw[12:16] == bytes([5, 6, 7, 8]) and
                raw[16:24] == bytes.fromhex("1112131415161718"), name + " session/seq/corr")
        for k, v in fields.items():
            if k == "entries":
                got = [dict(e, ipv4=e["ipv4"]) for e in f["body"]["entries"]]
                t.check(got == v, name + " entries round trip")
            else:
                t.check(f["body"].get(k) == v, "%s.%s round trip" % (name, k))
    sizes = {"HELLO": 120, "HELLO_ACK": 88 + 32 + 64, "REJECT": 4, "PING": 8, "PONG": 8,
             "GOODBYE": 2, "BACKOFF": 4, "GET_PEERS": 2, "PEERS": 4 + 2 * 44,
             "STATUS": 72, "GET_HEADERS": 40, "HEADERS": 8 + 17 * 80, "NOT_FOUND": 6,
             "NEW_BLOCK": 84}
    samples = _sample_fields()
    for name, size in sizes.items():
        t.check(len(encode_payload(name, **samples[name])) == size, name + " payload size")
    pl = encode_payload("HELLO", **samples["HELLO"])
    t.check(pl[0] == 1 and pl[1] == 2 and pl[2:4] == b"\0\0" and pl[4:8] == b"\0\0\0\x23",
            "HELLO proto/auth/streams offsets")
    t.check(pl[8:40] == bytes(range(32)) and pl[40:72] == bytes(range(32, 64)),
            "HELLO chain_id at 8, node_id at 40")
    t.check(pl[72:80] == bytes(range(1, 9)) and pl[80:84] == bytes.fromhex("a1b2c3d4") and
            pl[84:88] == struct.pack(">I", 77) and pl[88:120] == bytes(range(64, 96)),
            "HELLO nonce 72, reply_session 80, best_height 84, best_hash 88")
    pl = encode_payload("HELLO_ACK", **samples["HELLO_ACK"])
    t.check(pl[0:4] == b"\0\0\0\x21" and pl[4:6] == b"\0\x01" and pl[6:8] == b"\0\0" and
            pl[8:40] == bytes(range(32)) and pl[40:48] == struct.pack(">Q", 9) and
            pl[48:52] == bytes.fromhex("00010002") and pl[52:56] == struct.pack(">I", 5) and
            pl[88:120] == bytes(range(32)), "HELLO_ACK offsets")
    pl = encode_payload("PEERS", **samples["PEERS"])
    t.check(pl[0] == 2 and pl[1:4] == bytes(3) and pl[4:8] == bytes([10, 1, 2, 3]) and
            pl[8:10] == struct.pack(">H", 9747) and pl[10:12] == b"\0\x05" and
            pl[12:44] == bytes(range(32)) and pl[44:48] == struct.pack(">I", 1700000000) and
            pl[48:52] == bytes([192, 168, 0, 9]), "PEERS entry offsets")
    pl = encode_payload("STATUS", **samples["STATUS"])
    t.check(pl[67] == 2 and pl[36:67] == bytes(31), "STATUS chainwork big-endian at 36")
    pl = encode_payload("GET_HEADERS", **samples["GET_HEADERS"])
    t.check(pl[4:6] == struct.pack(">H", 2000) and pl[8:40] == samples["GET_HEADERS"]["anchor_hash"],
            "GET_HEADERS count at 4, anchor at 8")
    pl = encode_payload("HEADERS", **samples["HEADERS"])
    t.check(pl[4] == 17 and pl[5] == 1 and pl[8:88] == genesis_header("regtest"),
            "HEADERS n at 4, flags at 5, headers at 8")
    pl = encode_payload("NEW_BLOCK", **samples["NEW_BLOCK"])
    t.check(pl[4:84] == genesis_header("regtest"), "NEW_BLOCK header at 4")
    ping = encode_payload("PING", sender_time_ns=1)
    auth = encode_frame(0, T_PING, 1, 1, 0, ping, F_AUTH, tag=bytes(16))
    t.check(decode_frame(auth)["tag"] == bytes(16), "AUTH frame: tag after the payload")
    bad = {
        "sl_short": encode_frame(0, T_PING, 1, 1, 0, ping)[:23],
        "sl_magic": encode_frame(0, T_PING, 1, 1, 0, ping, magic=0x534D),
        "sl_version": encode_frame(0, T_PING, 1, 1, 0, ping, version=0),
        "sl_flags": encode_frame(0, T_PING, 1, 1, 0, ping, 0x02),
        "sl_length": encode_frame(0, T_PING, 1, 1, 0, ping, length=9),
        "sl_oversize": encode_frame(0, T_PING, 1, 1, 0, bytes(1449)),
    }
    bad_pl = {
        "PING 7 bytes": (0, T_PING, bytes(7)),
        "type 8 on stream 0": (0, 8, bytes(8)),
        "stream 6 (reserved)": (6, 1, b""),
        "GET_PEERS max 0": (1, 1, b"\0\0"),
        "GET_PEERS max 33": (1, 1, b"\0\x21"),
        "PEERS n 1, no entry": (1, 2, b"\x01\0\0\0"),
        "PEERS reserved": (1, 2, b"\0\0\x01\0"),
        "HEADERS n 0": (5, 3, bytes(8)),
        "HEADERS n 18": (5, 3, struct.pack(">IBBH", 0, 18, 0, 0) + bytes(18 * 80)),
        "HEADERS n 2, one header": (5, 3, struct.pack(">IBBH", 0, 2, 0, 0) + bytes(80)),
        "GET_HEADERS count 0": (5, 2, bytes(40)),
        "HELLO auth 1 without key": (0, 1, encode_payload("HELLO", auth_mode=1)),
        "REJECT reason 10": (0, 3, struct.pack(">HH", 10, 0)),
        "NOT_FOUND reason 0": (5, 4, bytes(6)),
    }
    for reason, raw in bad.items():
        try:
            decode_frame(raw)
            t.check(False, "decode accepts " + reason)
        except FrameError as e:
            t.check(e.reason == reason, "decode %s gives %s" % (reason, e.reason))
    for what, (s, ty, pl) in bad_pl.items():
        try:
            decode_frame(encode_frame(s, ty, 1, 1, 0, pl))
            t.check(False, "decode accepts " + what)
        except FrameError as e:
            t.check(e.reason == "sl_payload", what + " is sl_payload")
    ok = encode_frame(5, 2, 1, 1, 0, struct.pack(">IHH32s", 5, 2001, 0, bytes(32)))
    t.check(decode_frame(ok)["body"]["count"] == 2001, "GET_HEADERS count 2001 decodes")
    w = ReplayWindow()
    t.check(not w.accept(0), "replay: seq 0 refused")
    t.check(w.accept(1) and not w.accept(1), "replay: duplicate refused")
    t.check(w.accept(64) and w.accept(2) and w.accept(65) and not w.accept(1),
            "replay: window is 64 frames")
    t.check(w.accept(200) and not w.accept(136) and w.accept(137), "replay: too old refused")


def _selftest_loopback(t):
    peers = [{"ipv4": "10.0.0.%d" % i, "port": 9747, "node_id": bytes([i]) * 32,
              "last_seen_unix": 1700000000 + i} for i in range(1, 41)]
    r = Responder(("127.0.0.1", 0), peers=peers)
    th = threading.Thread(target=r.serve, daemon=True)
    th.start()
    dst = r.addr
    try:
        p = Peer(("127.0.0.1", 0))
        ack = p.hello(dst, timeout=2.0)
        t.check(ack is not None and ack["msg"] == "HELLO_ACK", "loopback: HELLO_ACK")
        if ack is None:
            return
        t.check(p.session == ack["body"]["reply_session"] and p.session >> 16 == 1,
                "loopback: session from reply_session")
        t.check(ack["session"] == p.reply_session and ack["seq"] == 1,
                "loopback: ACK carries our reply_session, seq 1")
        t.check(p.streams == 0b100011, "loopback: streams 0,1,5 negotiated")
        rtt = p.ping(1.0)
        t.check(rtt is not None and rtt < 1.0, "loopback: ping rtt")
        t.check(p.ping(1.0) is not None, "loopback: second ping")
        e = p.get_peers(5)
        t.check(e is not None and len(e) == 5 and e[0]["ipv4"] == "10.0.0.1", "loopback: PEERS 5")
        e = p.get_peers(32)
        t.check(e is not None and len(e) == 32, "loopback: PEERS capped at max 32")
        p.goodbye()
        time.sleep(0.1)
        t.check(p.ping(0.3) is None, "loopback: no answer after GOODBYE")
        t.check(r.drops["sl_no_session"] >= 1, "loopback: responder counted no_session")
        p.close()
        # Responder pings the initiator: the initiator answers by itself.
        q = Peer(("127.0.0.1", 0))
        q.hello(dst, timeout=2.0)
        s = r.sessions[q.session]
        r._tx(s, "PING", corr=3, sender_time_ns=42)
        q.pump(0.2)
        t.check(q.stats["pongs_tx"] == 1 and r.stats["ev_msg"] >= 1, "loopback: PING answered")
        q.goodbye()
        q.close()
        # Handshakes in bulk and a short flood.
        res = flood(dst, 40, 0.3, bind_hosts=("127.0.0.1",), concurrency=16)
        t.check(res["sessions_open"] == 40 and res["frames_sent"] > 0 and res["pongs"] > 0,
                "loopback: flood of 40 sessions")
        time.sleep(0.2)
        t.check(len(r.sessions) == 0, "loopback: flood said GOODBYE to all")
        # Every hostile case against the strict responder.
        ctx = Ctx(dst, "127.0.0.1", chain_id=chain_id_of("regtest"), wait=0.15, timeout=1.0,
                  probe=0.3)
        for case in HOSTILE_CASES:
            before = dict(r.drops)
            res = run_case(ctx, case)
            if not res["pass"]:
                emit(res)
            t.check(res["pass"], "hostile %s against the responder" % case["name"])
            moved = {k for k in r.drops if r.drops[k] != before.get(k, 0)}
            if case["drop"]:
                t.check(case["drop"] in moved, "hostile %s moved %s (moved %s)" %
                        (case["name"], case["drop"], sorted(moved)))
    finally:
        r.stop.set()
        th.join(2.0)
        r.sock.close()


def selftest():
    t = SelfTest()
    _selftest_codec(t)
    _selftest_loopback(t)
    emit({"selftest": "PASS" if not t.failed else "FAIL", "checks": t.n,
          "failed": len(t.failed)})
    return 0 if not t.failed else 1


# ---- CLI -------------------------------------------------------------------


def _pct(vals, q):
    if not vals:
        return None
    s = sorted(vals)
    return s[min(len(s) - 1, int(q * len(s)))]


def _common(ap, to=True):
    if to:
        ap.add_argument("--to", required=True, type=_addr, help="node a.b.c.d[:port]")
    ap.add_argument("--bind", default="0.0.0.0:0", help="local host[:port]")
    ap.add_argument("--chain", default="regtest", help="profile name or display hex")
    ap.add_argument("--timeout", type=float, default=3.0)


def _bind(a):
    return _addr(a.bind, 0)


def _streams(s):
    return streams_bits(x for x in s.split(",") if x != "")


def cmd_handshake(a):
    raise_nofile()
    host, port = _bind(a)
    peers = [Peer((host, port if a.count == 1 else 0), chain_id=chain_id_of(a.chain),
                  node_id=bytes.fromhex(a.node_id) if a.node_id else None)
             for _ in range(a.count)]
    t0 = time.monotonic()
    kw = {"streams": _streams(a.streams), "proto": (a.proto_min, a.proto_max),
          "auth_mode": a.auth_mode}
    if a.auth_seed is not None:  # a signed auth_mode-1 HELLO (SPEC §8)
        kw["ident"] = identity(bytes.fromhex(a.auth_seed))
        kw["bad_sig"] = a.bad_sig
    if a.nonce is not None:
        kw["nonce"] = a.nonce
    res = handshake_many(peers, a.to, timeout=a.timeout, concurrency=a.concurrency, hello_kw=kw,
                         retry_rate_limited=a.retry_rate_limited)
    el = time.monotonic() - t0
    for p, r in zip(peers, res):
        f = r["frame"]
        out = {"ok": r["ok"], "session": p.session if r["ok"] else None,
               "reply_session": p.reply_session, "latency_us": r["latency_us"],
               "attempts": r["attempts"], "local": "%s:%d" % p.addr}
        if f is None:
            out["timeout"] = True
        elif r["ok"]:
            out["streams"] = streams_list(p.streams)
            out["node_id"] = f["body"]["node_id"]
        else:
            out["reject"] = REJECT_REASONS.get(f["body"]["reason"], f["body"]["reason"])
            out["retry_after_s"] = f["body"]["retry_after_s"]
        emit(out)
        if a.goodbye and r["ok"]:
            p.goodbye()
    if a.count > 1:
        lat = [r["latency_us"] for r in res if r["ok"]]
        emit({"summary": True, "count": a.count, "ok": len(lat), "p50_us": _pct(lat, 0.5),
              "p90_us": _pct(lat, 0.9), "seconds": round(el, 3),
              "handshakes_per_s": round(len(lat) / el, 1) if el > 0 else None})
    return 0 if all(r["ok"] for r in res) else 1


def cmd_hold(a):
    host, port = _bind(a)
    p = Peer((host, port), chain_id=chain_id_of(a.chain))
    r = p.hello(a.to, streams=_streams(a.streams), timeout=a.timeout)
    emit({"event": "hello", "reply": describe(r)})
    if not r or r["msg"] != "HELLO_ACK":
        return 1
    t0 = time.monotonic()

    def on_frame(f):
        ev = {"t": round(time.monotonic() - t0, 3), "frame": describe(f)}
        ev["event"] = (f.get("msg") or "malformed").lower()
        if f.get("msg") == "PONG":
            ev["rtt_us"] = (time.monotonic_ns() - f["body"]["sender_time_ns"]) // 1000
        emit(ev)

    mute = a.seconds if a.mute_after is None else min(max(a.mute_after, 0.0), a.seconds)
    reason = p.run_for(mute, on_frame, a.ping_every)
    if reason is None and mute < a.seconds:
        p.answer_pings = False  # play dead: the node should judge us down
        emit({"event": "muted", "t": round(time.monotonic() - t0, 3)})
        reason = p.run_for(a.seconds - mute, on_frame, a.ping_every)
    if reason is None and a.goodbye:
        p.goodbye()
    emit({"event": "end", "goodbye": GOODBYE_REASONS.get(reason) if reason else None,
          "pings_rx": p.stats["pings_rx"], "pongs_tx": p.stats["pongs_tx"],
          "backoff_rx": p.stats["backoff_rx"], "seconds": round(time.monotonic() - t0, 3)})
    return 0


def cmd_serve(a):
    peers = []
    for s in filter(None, (a.peers or "").split(",")):
        h, pt = _addr(s)
        peers.append({"ipv4": h, "port": pt, "node_id": hashlib.sha256(s.encode()).digest(),
                      "last_seen_unix": int(time.time())})
    r = Responder(_addr(a.bind, DEFAULT_PORT), chain_id=chain_id_of(a.chain), peers=peers,
                  max_sessions=a.max_sessions, on_event=emit)
    emit({"event": "listening", "addr": "%s:%d" % r.addr})
    try:
        r.serve(a.seconds)
    except KeyboardInterrupt:
        pass
    emit({"event": "end", "sessions": len(r.sessions), "drops": dict(r.drops),
          "stats": dict(r.stats)})
    return 0


def cmd_send_raw(a):
    host, port = _bind(a)
    p = Peer((host, port), chain_id=chain_id_of(a.chain))
    p.send_raw(bytes.fromhex(a.hex), a.to)
    f = p.recv(a.wait)
    emit({"reply": describe(f)})
    return 0


def bad_pow_header(chain):
    """A header on top of `chain`'s genesis whose bits ask for far more work
    (0x1800ffff) than its hash carries: its proof of work fails."""
    g = genesis_header(chain)
    return (g[:4] + header_hash(g) + g[36:72] + struct.pack("<I", 0x1800FFFF) + g[76:80])


def cmd_new_block(a):
    host, port = _bind(a)
    p = Peer((host, port), chain_id=chain_id_of(a.chain))
    r = p.hello(a.to, streams=_streams(a.streams), timeout=a.timeout)
    if not r or r["msg"] != "HELLO_ACK":
        emit({"event": "hello", "reply": describe(r)})
        return 1
    hdr = bytes.fromhex(a.header) if a.header else bad_pow_header(a.chain)
    p.send_msg("NEW_BLOCK", height=a.height, header=hdr)
    reason = p.run_for(a.wait)
    if reason is None:
        p.goodbye()
    emit({"event": "sent", "height": a.height, "header": hdr.hex(),
          "goodbye": GOODBYE_REASONS.get(reason) if reason else None})
    return 0


def cmd_hostile(a):
    if a.list:
        for c in HOSTILE_CASES:
            emit({k: c[k] for k in ("name", "expect", "alive", "drop", "doc")})
        return 0
    names = [c["name"] for c in HOSTILE_CASES] if a.case == "all" else a.case.split(",")
    for n in names:
        if n not in CASES_BY_NAME:
            print("unknown case %s (see --list)" % n, file=sys.stderr)
            return 2
    host, _ = _bind(a)
    ctx = Ctx(a.to, host, a.alt_bind, chain_id_of(a.chain), a.wait, a.timeout, a.probe)
    ok = True
    for n in names:
        r = run_case(ctx, CASES_BY_NAME[n])
        ok &= r["pass"]
        emit(r)
    return 0 if ok else 1


def _csum16(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def _l2_frame(tmpl, udp_payload):
    """An Ethernet/IPv4/UDP frame with the addresses of captured frame
    `tmpl` (no VLAN, no IP options) carrying udp_payload: IP checksum
    right, UDP checksum 0 (not computed: SPEC §1 verifies non-zero only)."""
    eth, ip = tmpl[:14], bytearray(tmpl[14:34])
    struct.pack_into(">H", ip, 2, 20 + 8 + len(udp_payload))
    struct.pack_into(">H", ip, 10, 0)
    struct.pack_into(">H", ip, 10, _csum16(bytes(ip)))
    sport, dport = struct.unpack_from(">HH", tmpl, 34)
    return eth + bytes(ip) + struct.pack(">HHHH", sport, dport, 8 + len(udp_payload), 0) + \
        udp_payload


def cmd_tamper(a):
    """Capture one authenticated frame src -> dst on `iface` (a bridge port
    facing dst), then send dst, through the same port: the frame with one
    payload bit flipped, the frame again (a replay), a frame of the same
    session with a forged tag and a fresh seq, and one without flag AUTH
    (SPEC §8).  Prints what was captured and sent."""
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sk.bind((a.iface, 0))
    sk.settimeout(0.5)
    end = time.monotonic() + a.timeout
    got = None
    while got is None and time.monotonic() < end:
        try:
            f = sk.recv(2048)
        except socket.timeout:
            continue
        if len(f) < 42 + HDR_LEN or f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        if f[26:30] != src or f[30:34] != dst or struct.unpack_from(">H", f, 36)[0] != a.port:
            continue
        udp_len = struct.unpack_from(">H", f, 38)[0]
        try:
            h = decode_header(f[42:34 + udp_len])
        except FrameError:
            continue
        if h["flags"] & F_AUTH and h["stream"] == a.stream:
            got = f[:34 + udp_len]
    if got is None:
        emit({"tamper": "no authenticated frame captured", "ok": False})
        return 1
    sl = bytearray(got[42:])
    h = decode_header(bytes(sl))
    # The original reached dst already, so a copy with its seq would be a
    # replay whatever else changed: the flipped copy moves on to a seq dst
    # has not seen (its tag covers the header, so that alone breaks it).
    flipped = bytearray(sl)
    struct.pack_into(">I", flipped, 12, h["seq"] + 500)
    flipped[HDR_LEN + 3] ^= 0x01
    forged = bytearray(sl)
    struct.pack_into(">I", forged, 12, h["seq"] + 1000)
    forged[-16:] = secrets.token_bytes(16)
    bare = bytearray(sl[:-16])
    bare[5] &= 0xfe
    struct.pack_into(">I", bare, 12, h["seq"] + 1001)
    sent = {"flipped": bytes(flipped), "replay": bytes(sl), "forged_tag": bytes(forged),
            "no_auth_flag": bytes(bare)}
    for name, pl in sent.items():
        sk.send(_l2_frame(got, pl))
        time.sleep(0.05)
    emit({"tamper": "sent", "ok": True, "session": h["session"], "seq": h["seq"],
          "stream": h["stream"], "type": h["type"], "udp_len": len(sl),
          "length": h["length"], "frames": list(sent)})
    return 0


def cmd_flood(a):
    hosts = [h for h in a.bind.split(",") if h]
    res = flood(a.to, a.sessions, a.seconds, bind_hosts=hosts, chain_id=chain_id_of(a.chain),
                workers=a.workers, timeout=a.timeout, concurrency=a.concurrency,
                streams=_streams(a.streams))
    emit(res)
    return 0 if res["sessions_open"] == a.sessions else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description="SPEC-driven sluice test peer")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("handshake", help="HELLO -> HELLO_ACK / REJECT, N times")
    _common(p)
    p.add_argument("--streams", default="0,1,5")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--nonce", type=int)
    p.add_argument("--node-id")
    p.add_argument("--proto-min", type=int, default=1)
    p.add_argument("--proto-max", type=int, default=1)
    p.add_argument("--auth-mode", type=int, default=0)
    p.add_argument("--auth-seed", help="64 hex: sign an auth_mode-1 HELLO with this identity")
    p.add_argument("--bad-sig", action="store_true", help="with --auth-seed: a broken signature")
    p.add_argument("--goodbye", action="store_true", help="GOODBYE(SHUTDOWN) after")
    p.add_argument("--retry-rate-limited", action="store_true")
    p.set_defaults(fn=cmd_handshake)
    p = sub.add_parser("hold", help="handshake, then stay alive answering PINGs")
    _common(p)
    p.add_argument("--streams", default="0,1,5")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--ping-every", type=float, default=0.0)
    p.add_argument("--mute-after", type=float, help="stop answering PINGs after S s")
    p.add_argument("--goodbye", action="store_true", help="GOODBYE(SHUTDOWN) at the end")
    p.set_defaults(fn=cmd_hold)
    p = sub.add_parser("serve", help="responder: accept HELLO from the node")
    _common(p, to=False)
    p.add_argument("--peers", default="")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--max-sessions", type=int, default=4096)
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("send-raw", help="one raw datagram, print any reply")
    _common(p)
    p.add_argument("--hex", required=True)
    p.add_argument("--wait", type=float, default=1.0)
    p.set_defaults(fn=cmd_send_raw)
    p = sub.add_parser("new-block", help="handshake, one NEW_BLOCK, listen, GOODBYE")
    _common(p)
    p.add_argument("--streams", default="0,5")
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--header", help="80-byte header, hex (default: one failing its PoW)")
    p.add_argument("--wait", type=float, default=0.5, help="listen this long after")
    p.set_defaults(fn=cmd_new_block)
    p = sub.add_parser("hostile", help="crafted frames from HOSTILE_CASES")
    _common(p, to=False)
    p.add_argument("--to", type=_addr)
    p.add_argument("--case", default="all", help="NAME[,NAME...] or all")
    p.add_argument("--list", action="store_true")
    p.add_argument("--alt-bind", help="host for the wrong-source socket")
    p.add_argument("--wait", type=float, default=0.6, help="listen this long per case")
    p.add_argument("--probe", type=float, default=1.0, help="PING timeout of the alive check")
    p.set_defaults(fn=cmd_hostile)
    p = sub.add_parser("flood", help="N sessions, PINGs round-robin, frames/s")
    _common(p)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--streams", default="0,1,5")
    p.set_defaults(fn=cmd_flood)
    p = sub.add_parser("tamper", help="capture an authenticated frame, send altered copies")
    p.add_argument("--iface", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--stream", type=int, default=5)
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(fn=cmd_tamper)
    p = sub.add_parser("selftest", help="codec and loopback checks, no sluice needed")
    p.set_defaults(fn=lambda a: selftest())
    a = ap.parse_args(argv)
    if a.cmd == "hostile" and not a.list and a.to is None:
        ap.error("hostile: --to is required")
    if a.cmd == "flood":
        a.bind = a.bind.replace(":0", "")
    return a.fn(a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # stdout closed early (| head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
