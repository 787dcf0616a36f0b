#!/usr/bin/python3
"""sltap.py — NEW_BLOCK frame timestamps on a set of interfaces (the
capture of tests/bench/relay.sh; owned by the bench).

Opens one AF_PACKET socket per interface (all protocols, that interface
only) with SO_TIMESTAMPNS, so each frame carries the kernel's receive
timestamp: the time the frame entered the tap, as tcpdump would show it.
For every UDP frame to or from PORT whose payload is a sluice NEW_BLOCK
(magic 0x534C, stream 5, type 5) it prints one line
    <iface> <in|out> <t_ns> <src_ip> <dst_ip> <height>
(in: the interface received it; out: it was sent through it) and flushes.
Runs until SIGTERM/SIGINT.  Usage: sltap.py PORT IFACE...
"""
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4


def main():
    port = int(sys.argv[1])
    socks = {}
    for ifn in sys.argv[2:]:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind((ifn, 0))
        socks[s.fileno()] = (s, ifn)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    print("ready", flush=True)
    while not stop:
        try:
            r, _, _ = select.select(list(socks), [], [], 0.2)
        except InterruptedError:
            continue
        for fd in r:
            s, ifn = socks[fd]
            data, anc, _, addr = s.recvmsg(2048, 64)
            ts = None
            for lvl, typ, val in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", val[:16])
                    ts = sec * 1000000000 + nsec
            if ts is None or len(data) < 14 + 20 + 8 + 28:
                continue
            off = 14
            if data[12:14] == b"\x81\x00":
                off = 18
            if data[off - 2:off] != b"\x08\x00" or data[off + 9] != 17:
                continue
            ihl = (data[off] & 15) * 4
            u = off + ihl
            sport, dport = struct.unpack("!HH", data[u:u + 4])
            if port not in (sport, dport):
                continue
            pl = data[u + 8:]
            if len(pl) < 28 or pl[0:2] != b"\x53\x4c" or pl[4] != 5 or pl[3] != 5:
                continue
            height = struct.unpack("!I", pl[24:28])[0]
            d = "out" if addr[2] == PACKET_OUTGOING else "in"
            src = socket.inet_ntoa(data[off + 12:off + 16])
            dst = socket.inet_ntoa(data[off + 16:off + 20])
            print(ifn, d, ts, src, dst, height, flush=True)


if __name__ == "__main__":
    main()
