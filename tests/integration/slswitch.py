#!/usr/bin/env python3
"""slswitch.py — an impairing L2 switch for the fleet scenarios (test tool).

The kernels the suite runs on may lack sch_netem and sch_fq (so neither
netem's delay nor an EDT skb->tstamp from tc BPF can hold a frame back).
This switch stands in for the bridge: it reads every frame the nodes send
on the bridge-side ends of their veths (AF_PACKET, one socket per port,
the ports taken off the bridge first), and forwards it as a learning
switch would (known destination MAC: its port; broadcast or unknown:
every other port) after a delay drawn per frame from
[delay - jitter, delay + jitter] ms, so frames sent less than 2 x jitter
apart may leave in the other order (reordering).  Each frame is dropped
with probability loss %, once, where it enters.

  slswitch.py --ports q1,q2,... --loss 10 --delay-ms 50 --jitter-ms 20
              --stats FILE [--seed S]

Runs until SIGTERM or SIGINT; rewrites FILE (JSON: rx, dropped, sent,
reordered, flooded, queued) every 0.5 s and on exit.  "reordered" counts
frames sent out of a port before a frame that entered the switch earlier
and was bound for the same port.
"""
import argparse
import heapq
import json
import os
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ports", required=True)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--jitter-ms", type=float, default=0.0)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    names = a.ports.split(",")
    socks = []
    for n in names:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((n, 0))
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks.append(s)
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    mac_port = {}
    queue = []  # (due, order, out port, frame)
    order = 0
    last_order = [-1] * len(socks)  # per out port: entry order of the last frame sent
    st = dict(rx=0, dropped=0, sent=0, reordered=0, flooded=0, queued=0)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    def dump():
        st["queued"] = len(queue)
        tmp = a.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, a.stats)

    next_dump = 0.0
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, o, port, frame = heapq.heappop(queue)
            if o < last_order[port]:
                st["reordered"] += 1
            else:
                last_order[port] = o
            try:
                socks[port].send(frame)
                st["sent"] += 1
            except OSError:
                pass
        if now >= next_dump:
            dump()
            next_dump = now + 0.5
        timeout = 0.5 if not queue else max(0.0, queue[0][0] - now)
        try:
            r, _, _ = select.select(socks, [], [], min(timeout, 0.5))
        except InterruptedError:
            continue
        for s in r:
            i = by_fd[s.fileno()]
            while True:
                try:
                    frame, addr = s.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                    continue  # our own transmissions, seen again
                st["rx"] += 1
                mac_port[frame[6:12]] = i
                if rnd.random() * 100.0 < a.loss:
                    st["dropped"] += 1
                    continue
                dst = frame[0:6]
                if dst[0] & 1 or dst not in mac_port:
                    outs = [j for j in range(len(socks)) if j != i]
                    st["flooded"] += 1
                else:
                    outs = [mac_port[dst]] if mac_port[dst] != i else []
                due = time.monotonic() + max(
                    0.0, a.delay_ms + rnd.uniform(-a.jitter_ms, a.jitter_ms)) / 1000.0
                for j in outs:
                    heapq.heappush(queue, (due, order, j, frame))
                order += 1
    dump()
    return 0


if __name__ == "__main__":
    sys.exit(main())
