#!/usr/bin/env python3
"""Run a command in a pseudo-terminal of a given size and measure what a user's terminal would see.

Used by scripts/evidence. Prints one JSON object:
  first_frame_ms   spawn to the first output containing --ready (the first complete frame)
  idle_s           how long it was left idle after that
  cpu_ms           user+system CPU of the process (and reaped children) while idle
  wakeups_per_s    context switches per second of all its threads while idle
  idle_bytes       bytes written to the terminal while idle
  key_bytes        bytes written in the --settle seconds after each --key (list)
  vm_hwm_kib       peak resident memory (VmHWM) before it was asked to quit
  vm_rss_kib       resident memory (VmRSS) at the same moment: what it holds once running
  exit_code        after --quit was sent (or SIGTERM if it did not exit in 5 s)
  expect_found     for each --expect string: whether it appeared anywhere in the output
"""
import argparse, fcntl, json, os, pty, select, signal, struct, sys, termios, time

CLK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime are fields 14-17 (1-based); after the ")" split they start at index 11.
    return sum(int(x) for x in fields[11:15])


def switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def hwm(pid, field="VmHWM"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def drain(fd, seconds, until=None):
    """Read for `seconds` (or until `until` appears); return (bytes, found_at)."""
    buf = b""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return buf, None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return buf, None
        if not chunk:
            return buf, None
        buf += chunk
        if until is not None and until in buf:
            return buf, time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--ready", default="HKT")
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--quit", default="q")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    out = {}
    seen, found = drain(fd, 15, a.ready.encode())
    out["first_frame_ms"] = round((found - t0) * 1000, 1) if found else None
    # Let the start settle (resume messages, the first second tick) before measuring idle.
    settle, _ = drain(fd, 1.0)
    seen += settle
    c0, s0 = cpu_ticks(pid), switches(pid)
    idle, _ = drain(fd, a.idle)
    seen += idle
    c1, s1 = cpu_ticks(pid), switches(pid)
    out["idle_s"] = a.idle
    out["cpu_ms"] = (c1 - c0) * 1000 / CLK
    out["cpu_pct"] = round(100 * (c1 - c0) / CLK / a.idle, 3)
    out["wakeups_per_s"] = round((s1 - s0) / a.idle, 2)
    out["idle_bytes"] = len(idle)
    out["key_bytes"] = []
    for k in a.key:
        os.write(fd, k.encode().decode("unicode_escape").encode())
        got, _ = drain(fd, a.settle)
        seen += got
        out["key_bytes"].append(len(got))
    out["vm_hwm_kib"] = hwm(pid)
    out["vm_rss_kib"] = hwm(pid, "VmRSS")
    if a.quit:
        os.write(fd, a.quit.encode().decode("unicode_escape").encode())
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline:
        drain(fd, 0.05)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None:
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    out["expect_found"] = [e.encode() in seen for e in a.expect]
    out["exit_code"] = os.waitstatus_to_exitcode(status)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
