"""A slow poetry server, written with blocking sockets.

It serves one poem to one client at a time, in chunks of --num-bytes bytes
with a pause of --delay seconds after each chunk, so a client has to wait
the way it would wait for a slow server far away.  While it serves one
client, everyone else waits in the queue: that is what blocking means.

Run it, then fetch the poem with netcat or a client from chapter 2:

    python code/blocking-server/slowpoetry.py --port 10001 code/poetry/science.txt
    nc -d 127.0.0.1 10001
"""

import argparse
import math
import socket
import sys
import time
from pathlib import Path


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def delay_seconds(text: str) -> float:
    """A number of seconds to wait: 0 or more, and finite."""
    seconds = float(text)
    if not 0 <= seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(
            f"not a number of seconds, 0 or more: {text!r}")
    return seconds


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poem", type=Path, help="the file holding the poem")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--delay", type=delay_seconds, default=0.7,
                        help="seconds to wait after each chunk (default: 0.7)")
    parser.add_argument("--num-bytes", type=positive_count, default=10,
                        help="bytes in each chunk (default: 10)")
    return parser.parse_args()


def send_poem(client: socket.socket, poem: bytes, num_bytes: int,
              delay: float) -> bool:
    """Send the poem a chunk at a time; return False if the client hung up."""
    for start in range(0, len(poem), num_bytes):
        try:
            client.sendall(poem[start:start + num_bytes])
        except (BrokenPipeError, ConnectionResetError):
            return False
        time.sleep(delay)
    return True


def serve(listener: socket.socket, poem: bytes, num_bytes: int,
          delay: float) -> None:
    """Accept clients one after another, forever."""
    number = 0
    while True:
        client, (host, _port) = listener.accept()
        number += 1
        print(f"Connection {number} from {host}.")
        with client:
            if send_poem(client, poem, num_bytes, delay):
                print(f"Connection {number}: sent {len(poem)} bytes.")
            else:
                print(f"Connection {number}: the client hung up early.")


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Let a restarted server listen again at once on the same port.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.iface, args.port))
    except OSError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}: {error.strerror}")
    listener.listen(5)
    host, port = listener.getsockname()
    try:
        print(f"Serving {args.poem} on {host}:{port}.")
        serve(listener, poem, args.num_bytes, args.delay)
    except KeyboardInterrupt:
        pass  # Ctrl-C: the normal way to stop a server
    finally:
        listener.close()


if __name__ == "__main__":
    main()
