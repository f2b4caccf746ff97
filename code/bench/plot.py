"""Draw the plots of chapters 19 and 26 from the CSV files run.py wrote.

run.py calls plot_all() at the end of its measurements.  Run this file on
its own to draw the plots again from the CSV files as they are, without
measuring anything (after changing a plot's looks, say):

    python code/bench/plot.py

Each plot is written twice: as SVG, for the HTML and EPUB books, and as
PDF, for the LaTeX one.  Both are made so that drawing the same numbers
again writes the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw into files; no display needed

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

ROOT = Path(__file__).resolve().parents[2]
COLORS = {"blocking": "#c0504d", "select": "#4f81bd", "Twisted": "#2e8b57"}
MARKERS = {"blocking": "o", "select": "s", "Twisted": "^"}
# The four fast servers of servers.csv: a color, a marker and a line each, so
# that the lines stay apart in a book printed in black and white.
SERVER_STYLES = {
    "Twisted": dict(color=COLORS["Twisted"], marker="^", linestyle="-"),
    "asyncio Protocol": dict(color="#4f81bd", marker="s", linestyle="--"),
    "asyncio Streams": dict(color="#8064a2", marker="D", linestyle="-."),
    "Trio": dict(color="#d2691e", marker="o", linestyle=":"),
}

plt.rcParams.update({
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "svg.hashsalt": "twisted-poetry",  # the same ids in every SVG written
    "svg.fonttype": "none",  # the text as text, in the reader's fonts; no glyph paths
})


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def read_transposed(path: Path) -> tuple[list[int], dict[str, list[str]]]:
    """A table with one column per load: the loads, and each measure's values."""
    with path.open(newline="") as file:
        header, *rows = list(csv.reader(file))
    loads = [int(re.sub(r"\D", "", column)) for column in header[1:]]
    return loads, {row[0]: row[1:] for row in rows}


def poem_seconds(output: Path, which: str) -> float:
    """How long one poem takes, as run.py wrote it in setup.csv."""
    for row in read_rows(output / "setup.csv"):
        if row[""] == which:
            setting = row["this machine and this run"]
            return float(re.search(r"([\d.]+) s a poem", setting)[1])
    raise ValueError(f"setup.csv has no {which!r}")


def save(figure, output: Path, name: str) -> None:
    figure.tight_layout()
    figure.savefig(output / f"{name}.svg", facecolor="white", metadata={"Date": None})
    figure.savefig(output / f"{name}.pdf", facecolor="white",
                   metadata={"CreationDate": None, "ModDate": None})
    plt.close(figure)


def plot_clients(output: Path) -> None:
    rows = read_rows(output / "clients.csv")
    servers = [int(row["servers"]) for row in rows]
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for client in COLORS:
        seconds = [float(row[f"{client} client (s)"]) for row in rows]
        axes.plot(servers, seconds, marker=MARKERS[client], color=COLORS[client],
                  label=f"{client} client")
    one = poem_seconds(output, "slow servers for the clients")
    axes.plot(servers, [n * one for n in servers], linestyle="--", color="#888888",
              linewidth=1, label=f"N × {one:g} s, one poem after another")
    axes.set_xlabel("slow servers, N")
    axes.set_ylabel("time for all the poems (s)")
    axes.set_xticks(servers)
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False)
    save(figure, output, "clients")


def plot_server(output: Path) -> None:
    loads, table = read_transposed(output / "server.csv")
    one = poem_seconds(output, "slow servers for the loads")
    figure, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.2))
    left.plot(loads, [float(v) for v in table["time for the whole load (s)"]],
              marker="^", color=COLORS["Twisted"], label="all the poems")
    left.axhline(one, linestyle="--", color="#888888", linewidth=1,
                 label="one poem alone")
    left.set_xscale("log")
    left.set_xlabel("clients at once, C")
    left.set_ylabel("time (s)")
    times = [float(v) for v in table["time for the whole load (s)"]]
    left.set_ylim(0, max(2 * one, *times))
    left.legend(frameon=False, loc="lower right")
    right.plot(loads, [float(v) for v in table["server memory, peak (MiB)"]],
               marker="^", color=COLORS["Twisted"], label="peak")
    right.plot(loads, [float(v) for v in table["server memory, idle (MiB)"]],
               linestyle="--", color="#888888", linewidth=1,
               label="idle, before the load")
    right.set_xscale("log")
    right.set_xlabel("clients at once, C")
    right.set_ylabel("server memory (MiB)")
    right.set_ylim(bottom=0)
    right.legend(frameon=False, loc="lower right")
    for axes in (left, right):
        axes.set_xticks(loads, [f"{c:,}" for c in loads])
        axes.minorticks_off()
    save(figure, output, "server")


def plot_timeline(output: Path) -> None:
    rows = read_rows(output / "timeline.csv")
    clients = min(int(row["clients"]) for row in rows)
    _, table = read_transposed(output / "blocking-server.csv")
    limit = float(table["time limit (s)"][0])
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
    for server in ("Twisted", "blocking"):
        times = sorted(float(row["seconds"]) for row in rows
                       if row["server"] == server and int(row["clients"]) == clients)
        # A step up for every poem, then level to the end: no more poems came.
        axes.step([0, *times, limit], [0, *range(1, len(times) + 1), len(times)],
                  where="post", color=COLORS[server], label=f"{server} server")
        axes.annotate(f"{len(times)} poems", (limit, len(times)), xytext=(-4, 4),
                      textcoords="offset points", ha="right", color=COLORS[server])
    axes.axvline(limit, color="#888888", linewidth=1, linestyle=":")
    axes.set_xlim(0, limit * 1.02)
    axes.set_ylim(0, clients * 1.05)
    axes.set_xlabel("seconds since the clients connected")
    axes.set_ylabel(f"poems complete, of {clients}")
    axes.legend(frameon=False, loc="center right")
    save(figure, output, "timeline")


def plot_servers(output: Path) -> None:
    rows = read_rows(output / "servers.csv")
    loads = sorted({int(row["clients"]) for row in rows})
    figure, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.4))
    measures = ((left, "time (s)", "time for all the poems (s)"),
                (right, "per connection (KiB)", "memory per connection (KiB)"))
    for axes, column, label in measures:
        for server, style in SERVER_STYLES.items():
            points = sorted((int(row["clients"]), float(row[column]))
                            for row in rows if row["server"] == server)
            if points:
                axes.plot([c for c, _ in points], [v for _, v in points],
                          label=server, **style)
        axes.set_xscale("log")
        axes.set_xticks(loads, [f"{c:,}" for c in loads])
        axes.minorticks_off()
        axes.set_xlabel("clients at once, C")
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
    left.legend(frameon=False, loc="upper left")
    save(figure, output, "servers")


def plot_all(output: Path) -> None:
    plot_clients(output)
    plot_server(output)
    plot_timeline(output)
    if (output / "servers.csv").exists():  # not in a run older than chapter 26
        plot_servers(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="?",
                        default=ROOT / "book" / "_static" / "bench",
                        help="where the CSV files are, and the plots go"
                             " (default: book/_static/bench)")
    plot_all(parser.parse_args().folder)


if __name__ == "__main__":
    main()
