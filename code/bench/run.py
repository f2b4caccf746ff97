"""The book's own measurements of concurrency, run by `make bench`.

It measures three things on this machine, over 127.0.0.1, and writes what
it measured as CSV files, and plots of it as SVG and PDF files (plot.py),
into book/_static/bench/, where chapters 19 and 26 show them:

1. clients: the blocking client, the select client and the Twisted client
   against N = 1, 2, 5, 10 and 20 of chapter 2's slow servers.
2. server: one Twisted slow server (twisted-slowpoetry.py) and
   C = 100, 1,000 and 5,000 clients at once (load.py): the poems, the
   time, the server's peak memory.
3. blocking server: the same loads against chapter 2's blocking server,
   each stopped after a time limit.
4. servers: the same fast poetry server written four ways, with Twisted,
   asyncio's protocols, asyncio's streams and Trio, each under the same
   loads of C clients at once: the time, the server's processor time and
   peak memory, and every poem's bytes.

It needs Linux: it reads the servers' memory in /proc/PID/status and the
kernel's table of TCP connections in /proc/net/tcp.  Every program it
starts is stopped at the end, even when something fails.

    python code/bench/run.py            # the measurements of the book
    python code/bench/run.py --quick    # small and fast: only to see that it works
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "code"
POEM = "code/poetry/science.txt"
CLIENTS = {  # the three clients, and the arguments that make them fetch N poems
    "blocking": lambda ports: ["blocking-client/get-poetry.py", *ports],
    "select": lambda ports: ["async-client/get-poetry.py", *ports],
    "Twisted": lambda ports: ["twisted-client-5/get-poetry.py",
                              "--outcomes", ",".join(["success"] * len(ports)), *ports],
}
SLOW_SERVER = "blocking-server/slowpoetry.py"
TWISTED_SERVER = "bench/twisted-slowpoetry.py"
LOAD = "bench/load.py"
FAST_SERVERS = {  # the same fast poetry server, four ways: name in the tables, program
    "Twisted": "bench/fastpoetry-twisted.py",
    "asyncio Protocol": "bench/fastpoetry-asyncio.py",
    "asyncio Streams": "bench/fastpoetry-streams.py",
    "Trio": "bench/fastpoetry-trio.py",
}


@dataclass
class Settings:
    servers: list[int]  # N, for the clients
    repeats: dict[str, int]  # runs of each client for each N; the table has the median
    client_poem: list[str]  # the slow servers' --delay and --num-bytes
    loads: list[int]  # C, for the servers
    server_poem: list[str]
    load_limit: float  # seconds before load.py gives up on the Twisted server
    blocking_limit: float  # seconds before load.py gives up on the blocking server
    fast_loads: list[int]  # C, for the four fast servers
    fast_repeats: int  # runs of each fast server under each load; the table: medians


FULL = Settings(servers=[1, 2, 5, 10, 20],
                # The blocking client's time is the servers' pauses, and varies little.
                repeats={"blocking": 3, "select": 5, "Twisted": 5},
                client_poem=["--delay", "0.05", "--num-bytes", "70"],
                loads=[100, 1000, 5000],
                server_poem=["--delay", "0.5", "--num-bytes", "200"],
                load_limit=60, blocking_limit=30,
                fast_loads=[100, 1000, 5000], fast_repeats=3)
QUICK = Settings(servers=[1, 2], repeats={"blocking": 1, "select": 1, "Twisted": 1},
                 client_poem=["--delay", "0.01", "--num-bytes", "200"],
                 loads=[20],
                 server_poem=["--delay", "0.05", "--num-bytes", "200"],
                 load_limit=10, blocking_limit=1,
                 fast_loads=[20], fast_repeats=1)


def poem_time(options: list[str]) -> float:
    """How long a slow server takes over one poem: a pause after every chunk."""
    delay, num_bytes = float(options[1]), int(options[3])
    return math.ceil(len((ROOT / POEM).read_bytes()) / num_bytes) * delay


def describe_poem(options: list[str]) -> str:
    return (f"chunks of {options[3]} bytes, {options[1]} s after each:"
            f" {poem_time(options):g} s a poem")


# -- processes ----------------------------------------------------------------

def environment() -> dict[str, str]:
    """The programs run as a reader runs them: no development mode, no warnings."""
    left_out = ("PYTHONDEVMODE", "PYTHONWARNINGS", "PYTHONTRACEMALLOC", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in left_out}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # it ended in the meantime
        pass


class Processes:
    """Every program started, so that all of them can be stopped, whatever happens."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[subprocess.Popen] = []

    def start(self, program: str, *args: str, log: str) -> subprocess.Popen:
        """Start code/<program> in a process group of its own, its output in a log."""
        with open(self.logs / log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, str(CODE / program), *args],
                cwd=ROOT, env=environment(),
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.running.append(process)
        return process

    def server(self, program: str, *args: str,
               log: str) -> tuple[subprocess.Popen, int]:
        """Start a server and read its port from the first line it prints."""
        process = self.start(program, "--port", "0", *args, log=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            first = (self.logs / log).read_text(errors="replace").partition("\n")
            if first[1]:
                match = re.search(r"127\.0\.0\.1:(\d+)", first[0])
                if not match:
                    raise RuntimeError(f"{program} said {first[0]!r}, not its address")
                return process, int(match.group(1))
            if process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"{program} did not name its address: "
                           f"{(self.logs / log).read_text(errors='replace')!r}")

    def run(self, program: str, *args: str, timeout: float,
            log: str) -> tuple[int, str, float]:
        """Run a program to its end; return its status, its output and its run time.

        A program still running after `timeout` seconds is killed.  (The
        wait has no timeout of its own: Popen.wait(timeout) looks every
        50 ms, and the run times would come in steps of 50 ms.)
        """
        started = time.monotonic()
        process = self.start(program, *args, log=log)
        timer = threading.Timer(timeout, kill_group, [process.pid])
        timer.daemon = True
        timer.start()
        try:
            status = process.wait()
        finally:
            timer.cancel()
        seconds = time.monotonic() - started
        self.running.remove(process)
        if seconds >= timeout:
            raise RuntimeError(f"{program} {' '.join(args)} ran over {timeout:g} s")
        return status, (self.logs / log).read_text(errors="replace"), seconds

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM for the process's group; then, if need be, SIGKILL.

        Not SIGINT, Ctrl-C: a program started in the background (`make
        bench &`) ignores SIGINT, and so does every program it starts.
        """
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                pass
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)


# -- what the kernel knows ------------------------------------------------------

TCP_STATES = {"01": "established", "02": "syn-sent", "03": "syn-recv", "0A": "listen"}


def sockets(port: int) -> Counter:
    """Count the TCP sockets to and from a local port, by side and state.

    They are read from /proc/net/tcp.

    The server's side of a connection has the port as its local port; a
    client's side has it as its remote port.  For the listening socket,
    the receive queue is the accept queue: connections the kernel has
    completed that the server has not yet accepted.
    """
    counts: Counter = Counter()
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote, state = fields[1], fields[2], TCP_STATES.get(fields[3])
            if state is None:
                continue
            if int(local.rsplit(":", 1)[1], 16) == port:
                counts["server " + state] += 1
                if state == "listen":
                    counts["accept queue"] = int(fields[4].split(":")[1], 16)
            elif int(remote.rsplit(":", 1)[1], 16) == port:
                counts["client " + state] += 1
    return counts


def kernel_counters() -> Counter:
    """Two of the kernel's counters (/proc/net/netstat), for the whole machine.

    ListenOverflows counts the handshakes it dropped because a listening
    socket's accept queue was full; SyncookiesSent, the handshakes it
    answered with a SYN cookie, keeping no record of them.
    """
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=True):
        if names.startswith("TcpExt:"):
            counters = dict(zip(names.split(), values.split(), strict=True))
            return Counter({name: int(counters[name])
                            for name in ("ListenOverflows", "SyncookiesSent")})
    raise RuntimeError("no TcpExt counters in /proc/net/netstat")


def memory_kib(pid: int, field: str) -> int:
    """VmRSS (memory in use now) or VmHWM (the most ever in use), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def reset_peak_memory(pid: int) -> None:
    """Set a process's VmHWM back to its VmRSS, so the next peak is the load's own.

    Without it, a server whose imports once took more memory than it uses
    when idle would hide a load's memory under that peak of its start-up.
    (Writing 5 to /proc/PID/clear_refs does it, on Linux 4.0 and later.)
    """
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def cpu_seconds(pid: int) -> float:
    """The processor time a process has used so far, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the measurements -----------------------------------------------------------

def measure_clients(settings: Settings, procs: Processes) -> list[dict]:
    """Each client against N slow servers, for every N, `repeats` times."""
    ports = []
    for number in range(max(settings.servers)):
        _, port = procs.server(SLOW_SERVER, *settings.client_poem, POEM,
                               log=f"slow-server-{number + 1}.log")
        ports.append(str(port))
    for client, arguments in CLIENTS.items():
        # Once, unmeasured: afterwards every measured run finds the files of
        # Python and Twisted in the operating system's cache.
        procs.run(*arguments(ports[:1]), timeout=60, log=f"client-{client}-warm-up.log")
    runs = []
    for run in range(1, max(settings.repeats.values()) + 1):
        for n in settings.servers:
            for client, arguments in CLIENTS.items():
                if run > settings.repeats[client]:
                    continue
                status, output, seconds = procs.run(*arguments(ports[:n]), timeout=120,
                                                    log=f"client-{client}-{n}-{run}.log")
                if status != 0 or f"Got {n} of {n} poems" not in output:
                    raise RuntimeError(f"the {client} client failed"
                                       f" with {n} servers:\n{output}")
                runs.append({"client": client, "servers": n, "run": run,
                             "seconds": round(seconds, 3)})
                print(f"  {client} client, N = {n}, run {run}: {seconds:.2f} s",
                      flush=True)
    return runs


def run_load(procs: Processes, port: int, clients: int, limit: float, name: str,
             sample: bool = False) -> tuple[list[dict], list[tuple[float, Counter]]]:
    """Run load.py against a server; return what it wrote about each client.

    With `sample`, also look at the kernel's table of TCP connections to
    the server's port every 0.2 seconds, and return what it held each time.
    """
    times = procs.logs / f"{name}-times.csv"
    process = procs.start(LOAD, "--clients", str(clients), "--poem", POEM,
                          "--time-limit", str(limit), "--times", str(times), str(port),
                          log=f"{name}.log")
    started = time.monotonic()
    samples = []
    while process.poll() is None:
        now = time.monotonic() - started
        if now > limit + 30:
            procs.stop(process)
            raise RuntimeError(f"load.py ran over its time limit of {limit:g} s")
        if sample:
            samples.append((now, sockets(port)))
        time.sleep(0.2)
    procs.running.remove(process)
    if not times.exists():
        log = (procs.logs / f"{name}.log").read_text()
        raise RuntimeError(f"load.py failed:\n{log}")
    with times.open() as file:
        rows = list(csv.DictReader(file))
    return rows, samples


def most_open(rows: list[dict]) -> int:
    """The most connections the clients had open at the same time."""
    events = sorted([(float(r["connected"]), 1) for r in rows if r["connected"]]
                    + [(float(r["ended"]), -1) for r in rows if r["connected"]])
    most = now = 0
    for _, change in events:  # at equal times, -1 sorts first: a close, then an open
        now += change
        most = max(most, now)
    return most


def measure_server(settings: Settings,
                   procs: Processes) -> tuple[list[dict], list[dict]]:
    """One Twisted slow server for each C, and C clients at once."""
    results, timeline = [], []
    for clients in settings.loads:
        server, port = procs.server(TWISTED_SERVER, *settings.server_poem, POEM,
                                    log=f"twisted-server-{clients}.log")
        idle_kib, idle_cpu = memory_kib(server.pid, "VmRSS"), cpu_seconds(server.pid)
        counters = kernel_counters()
        rows, _ = run_load(procs, port, clients, settings.load_limit,
                           f"load-twisted-{clients}")
        peak_kib = memory_kib(server.pid, "VmHWM")
        cpu = cpu_seconds(server.pid) - idle_cpu
        counters = kernel_counters() - counters
        procs.stop(server)
        complete = [row for row in rows if row["outcome"] == "complete"]
        ends = [float(row["ended"]) for row in rows]
        results.append({
            "clients": clients,
            "poems complete": len(complete),
            "clients failed": clients - len(complete),
            "time for the whole load (s)": f"{max(ends):.2f}",
            "fastest poem (s)": f"{min(float(r['ended']) for r in complete):.2f}"
                                if complete else "",
            "most connections open at once": most_open(rows),
            "listen-queue overflows": counters["ListenOverflows"],
            "server processor time (s)": f"{cpu:.2f}",
            "server memory, idle (MiB)": f"{idle_kib / 1024:.1f}",
            "server memory, peak (MiB)": f"{peak_kib / 1024:.1f}",
            "memory per connection (KiB)": f"{(peak_kib - idle_kib) / clients:.1f}",
        })
        timeline += [{"server": "Twisted", "clients": clients, "seconds": row["ended"]}
                     for row in complete]
        print(f"  Twisted server, {clients} clients: {len(complete)} complete"
              f" in {max(ends):.2f} s, peak memory {peak_kib / 1024:.1f} MiB",
              flush=True)
    return results, timeline


def measure_blocking_server(settings: Settings, procs: Processes,
                            one_poem: float) -> tuple[list[dict], list[dict]]:
    """Chapter 2's blocking server for each C, until load.py's time limit."""
    results, timeline = [], []
    limit = settings.blocking_limit
    for clients in settings.loads:
        server, port = procs.server(SLOW_SERVER, *settings.server_poem, POEM,
                                    log=f"blocking-server-{clients}.log")
        counters = kernel_counters()
        rows, samples = run_load(procs, port, clients, limit,
                                 f"load-blocking-{clients}", sample=True)
        counters = kernel_counters() - counters
        procs.stop(server)
        complete = sorted(float(row["ended"]) for row in rows
                          if row["outcome"] == "complete")
        outcomes = Counter(row["outcome"] for row in rows)
        # What the kernel knew just before the time limit, on each side.
        before = [s for t, s in samples if t <= limit - 0.5] or [samples[0][1]]
        last = before[-1]
        results.append({
            "clients": clients,
            "time limit (s)": f"{limit:g}",
            "poems complete": len(complete),
            "last poem complete at (s)": f"{complete[-1]:.2f}" if complete else "",
            "at the limit: part of a poem":
                outcomes["part of the poem at the time limit"],
            "at the limit: connected, no poem": outcomes[
                "connected, not a byte yet at the time limit"],
            "at the limit: still connecting":
                outcomes["still connecting at the time limit"],
            "server side just before: connected": last["server established"],
            "server side just before: half-open": last["server syn-recv"],
            "failed otherwise": clients - len(complete) - sum(
                n for outcome, n in outcomes.items()
                if outcome.endswith("the time limit")),
            "listen-queue overflows": counters["ListenOverflows"],
            "SYN cookies sent": counters["SyncookiesSent"],
            f"all clients, {one_poem:g} s each (s)": f"{clients * one_poem:g}",
        })
        timeline += [{"server": "blocking", "clients": clients, "seconds": f"{t:.4f}"}
                     for t in complete]
        print(f"  blocking server, {clients} clients: {len(complete)} complete"
              f" in {limit:g} s", flush=True)
    return results, timeline


def measure_fast_servers(settings: Settings, procs: Processes) -> list[dict]:
    """Each fast server, fresh for each run, under each load, `fast_repeats` times.

    The runs go round the servers in turn, so that whatever else the
    machine is doing at some moment falls on all four alike.
    """
    runs = []
    for run in range(1, settings.fast_repeats + 1):
        for clients in settings.fast_loads:
            for name, program in FAST_SERVERS.items():
                stem = Path(program).stem
                server, port = procs.server(program, POEM,
                                            log=f"{stem}-{clients}-{run}.log")
                reset_peak_memory(server.pid)
                idle_kib, idle_cpu = memory_kib(server.pid, "VmRSS"), cpu_seconds(
                    server.pid)
                counters = kernel_counters()
                rows, _ = run_load(procs, port, clients, settings.load_limit,
                                   f"load-{stem}-{clients}-{run}")
                peak_kib = memory_kib(server.pid, "VmHWM")
                cpu = cpu_seconds(server.pid) - idle_cpu
                counters = kernel_counters() - counters
                procs.stop(server)
                runs.append(fast_run(name, clients, run, rows, idle_kib, peak_kib, cpu,
                                     counters["ListenOverflows"]))
                print(f"  {name}, {clients} clients, run {run}:"
                      f" {runs[-1]['poems complete']} complete"
                      f" in {runs[-1]['seconds']} s", flush=True)
    return runs


def fast_run(server: str, clients: int, run: int, rows: list[dict], idle_kib: int,
             peak_kib: int, cpu: float, overflows: int) -> dict:
    """One run of a fast server, from load.py's rows and the server's numbers."""
    return {
        "server": server, "clients": clients, "run": run,
        "poems complete": sum(row["outcome"] == "complete" for row in rows),
        "bytes received": sum(int(row["bytes"]) for row in rows),
        "seconds": f"{max(float(row['ended']) for row in rows):.3f}",
        "processor seconds": f"{cpu:.2f}",
        "idle KiB": idle_kib, "peak KiB": peak_kib,
        "KiB per connection": f"{(peak_kib - idle_kib) / clients:.2f}",
        "listen-queue overflows": overflows,
    }


def summarize_fast(runs: list[dict], poem_bytes: int) -> list[dict]:
    """One row per server and load: the totals of every run, the medians of the rest."""
    cells: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        cells.setdefault((r["server"], int(r["clients"])), []).append(r)
    rows = []
    for (server, clients), cell in cells.items():
        def median(key: str, cell: list[dict] = cell) -> float:
            return statistics.median(float(r[key]) for r in cell)

        complete = sum(int(r["poems complete"]) for r in cell)
        received = sum(int(r["bytes received"]) for r in cell)
        expected = clients * len(cell)
        whole = complete == expected and received == complete * poem_bytes
        rows.append({  # short headings: the printed page holds eight columns
            "server": server,
            "clients": clients,
            "every poem whole": "yes" if whole else f"{complete} of {expected}",
            "time (s)": f"{median('seconds'):.2f}",
            "CPU (s)": f"{median('processor seconds'):.2f}",
            "idle (MiB)": f"{median('idle KiB') / 1024:.1f}",
            "peak (MiB)": f"{median('peak KiB') / 1024:.1f}",
            "per connection (KiB)": f"{median('KiB per connection'):.1f}",
        })
    return rows


# -- writing it down ------------------------------------------------------------

def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_transposed(path: Path, results: list[dict]) -> None:
    """One column per run, one row per measure: narrow enough for a printed page."""
    header = [""] + [f"{r['clients']:,} clients" for r in results]
    rows = [[key] + [r[key] for r in results] for key in results[0] if key != "clients"]
    write_csv(path, header, rows)


def write_clients(output: Path, runs: list[dict], settings: Settings) -> None:
    write_csv(output / "clients-runs.csv", ["client", "servers", "run", "seconds"],
              [[r["client"], r["servers"], r["run"], r["seconds"]] for r in runs])
    seconds: dict[tuple[str, int], list[float]] = {}
    for r in runs:
        seconds.setdefault((r["client"], r["servers"]), []).append(r["seconds"])
    median = {key: statistics.median(values) for key, values in seconds.items()}
    write_csv(output / "clients.csv",
              ["servers"] + [f"{client} client (s)" for client in CLIENTS],
              [[n] + [f"{median[client, n]:.2f}" for client in CLIENTS]
               for n in settings.servers])
    first, last = settings.servers[0], settings.servers[-1]
    write_csv(output / "ratios.csv",
              ["client", f"{first} server (s)", f"{last} servers (s)", "ratio"],
              [[client, f"{median[client, first]:.2f}", f"{median[client, last]:.2f}",
                f"{median[client, last] / median[client, first]:.2f}"]
               for client in CLIENTS])


def write_fast_servers(output: Path, runs: list[dict]) -> None:
    """Every run in servers-runs.csv; the table of the book in servers.csv."""
    write_csv(output / "servers-runs.csv", list(runs[0]),
              [list(r.values()) for r in runs])
    rows = summarize_fast(runs, len((ROOT / POEM).read_bytes()))
    write_csv(output / "servers.csv", list(rows[0]), [list(r.values()) for r in rows])


def write_setup(output: Path, settings: Settings, seconds: float) -> None:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.partition(":")[2].strip()
            break
    memory = Path("/proc/meminfo").read_text().split()[1]  # MemTotal, in KiB
    twisted = subprocess.run(
        [sys.executable, "-c", "import twisted; print(twisted.__version__)"],
        capture_output=True, text=True, check=True).stdout.strip()
    trio = subprocess.run(
        [sys.executable, "-c", "import trio; print(trio.__version__)"],
        capture_output=True, text=True, check=True).stdout.strip()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    somaxconn = Path("/proc/sys/net/core/somaxconn").read_text().strip()
    # The chapter shows this file as a table, and reads each cell as Markdown:
    # names from the machine go in backquotes, as code, which the spelling
    # check leaves alone.
    rows = [
        ["processor", f"`{cpu}`"],
        ["processor cores", os.cpu_count()],
        ["memory", f"{int(memory) / 1024 ** 2:.1f} GiB"],
        ["system", f"`{platform.system()} {platform.release()}`"],
        ["Python", platform.python_version()],
        ["Twisted", twisted],
        ["open files allowed (soft, hard)", f"{soft}, {hard}"],
        ["longest listen queue (`net.core.somaxconn`)", somaxconn],
        ["slow servers for the clients", describe_poem(settings.client_poem)],
        ["slow servers for the loads", describe_poem(settings.server_poem)],
        ["the poem", f"`{POEM}`, {len((ROOT / POEM).read_bytes())} bytes"],
        ["Trio", trio],
        ["runs of each fast server under each load", settings.fast_repeats],
        ["runs of each client",
         ", ".join(f"{c} {n}" for c, n in settings.repeats.items())],
        ["measured on", time.strftime("%Y-%m-%d", time.gmtime())],
        ["time for all the measurements", f"{seconds:.0f} s"],
    ]
    write_csv(output / "setup.csv", ["", "this machine and this run"], rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small, fast measurements, only to see that all works")
    parser.add_argument("--output", type=Path,
                        default=ROOT / "book" / "_static" / "bench",
                        help="folder for the CSV files and plots"
                             " (default: book/_static/bench)")
    parser.add_argument("--no-plots", action="store_true",
                        help="write the CSV files only (plot.py draws the plots)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    settings = QUICK if args.quick else FULL
    if not Path("/proc/net/tcp").exists():
        sys.exit("run.py reads /proc: it runs on Linux only")
    args.output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as logs:
        procs = Processes(Path(logs))
        try:
            print("1. Three clients, N slow servers", flush=True)
            runs = measure_clients(settings, procs)
            procs.stop_all()
            print("2. One Twisted server, C clients at once", flush=True)
            server, twisted_timeline = measure_server(settings, procs)
            print("3. The blocking server, the same loads", flush=True)
            blocking, blocking_timeline = measure_blocking_server(
                settings, procs, poem_time(settings.server_poem))
            print("4. The same fast server four ways, C clients at once", flush=True)
            fast = measure_fast_servers(settings, procs)
        finally:
            procs.stop_all()
    write_clients(args.output, runs, settings)
    write_transposed(args.output / "server.csv", server)
    write_transposed(args.output / "blocking-server.csv", blocking)
    write_csv(args.output / "timeline.csv", ["server", "clients", "seconds"],
              [[r["server"], r["clients"], r["seconds"]]
               for r in twisted_timeline + blocking_timeline])
    write_fast_servers(args.output, fast)
    write_setup(args.output, settings, time.monotonic() - started)
    if not args.no_plots:
        import plot  # here, not at the top: only the plots need matplotlib

        plot.plot_all(args.output)
    seconds = time.monotonic() - started
    print(f"Wrote the measurements to {args.output} in {seconds:.0f} s.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: every program started has been stopped on the way out
