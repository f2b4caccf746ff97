"""Say how much memory the program listening on a port uses, as Linux counts it.

It finds the process that holds the listening socket (in /proc/net/tcp
and /proc/PID/fd), and reads two lines of /proc/PID/status: VmRSS, the
memory the process has in RAM now (its resident set size), and VmHWM,
the most it has had at any moment since it started (its high-water
mark).  Linux only.

    python code/backpressure/memory.py 10001
"""

import argparse
import os
import sys
from pathlib import Path

LISTEN = "0A"  # the state of a listening socket, in /proc/net/tcp


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def listening_socket(port: int) -> str | None:
    """The inode of the socket that listens on the port, if there is one."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == LISTEN:
            return fields[9]
    return None


def owner(inode: str) -> int | None:
    """The process that has the socket open, if we may look at it."""
    pids = sorted((int(path.name) for path in Path("/proc").glob("[0-9]*")),
                  reverse=True)  # the newest first: a server just started
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
        except OSError:  # gone, or not ours to look at
            continue
    return None


def megabytes(status: str, name: str) -> float:
    """A line such as 'VmRSS:  24576 kB' of /proc/PID/status, in MB."""
    for line in status.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {name} in the process's status")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", metavar="ADDRESS", type=parse_address,
                        help="the [host:]port the program listens on")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    host, port = args.address
    inode = listening_socket(port)
    pid = owner(inode) if inode else None
    if pid is None:
        sys.exit(f"Nothing of ours listens on port {port}.")
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        sys.exit(f"The program on port {port} has just ended.")
    rss, peak = megabytes(status, "VmRSS"), megabytes(status, "VmHWM")
    print(f"{host}:{port}: {rss:.0f} MB in memory now, {peak:.0f} MB at most.")


if __name__ == "__main__":
    main()
