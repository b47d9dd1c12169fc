"""The engine benchmark's plots (bench/bench_engine.py): clusters completed over time for fleets of several sizes
with one worker (docs/bench-fleet.png), and the scale-out of one fleet over 1, 2, 3 ... worker processes
(docs/bench-scaleout.png). matplotlib is a dev dependency (requirements-dev.txt), imported only to draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(fleets: list[dict[str, Any]], critical_path_seconds: float, path: Path, time_factor: float) -> None:
    """Clusters Succeeded over time, one line per fleet size (one worker each)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for f in fleets:
        times = f["completions"]
        ax.step([0.0, *times], range(len(times) + 1), where="post", label=f"{f['size']} clusters")
    ax.axvline(critical_path_seconds, color="grey", linestyle="--", linewidth=1,
               label=f"critical path of one cluster ({critical_path_seconds:.0f} s)")
    ax.set_xlabel(f"seconds since submit (emulator time factor {time_factor:g})")
    ax.set_ylabel("clusters Succeeded")
    ax.set_title("aksvend fleet provisioning: one worker, ARM throttling on")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_scaling(fleets: list[dict[str, Any]], critical_path_seconds: float, path: Path, time_factor: float,
                 nproc: int | None) -> None:
    """Left: clusters Succeeded over time for each worker count. Right: time to all Succeeded against the number
    of workers, with the ideal (one worker's time / N) and the floor no worker count can beat (the critical path)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110, gridspec_kw={"width_ratios": [3, 2]})
    size = fleets[0]["size"]
    for f in fleets:
        times = f["completions"]
        left.step([0.0, *times], range(len(times) + 1), where="post",
                  label=f"{f['workers']} worker{'s' if f['workers'] > 1 else ''}")
    left.axvline(critical_path_seconds, color="grey", linestyle="--", linewidth=1,
                 label=f"critical path of one cluster ({critical_path_seconds:.0f} s)")
    left.set_xlabel(f"seconds since submit (emulator time factor {time_factor:g})")
    left.set_ylabel("clusters Succeeded")
    left.set_title(f"fleet of {size} production requests")
    left.grid(alpha=0.3)
    left.legend(loc="upper left")
    done = [f for f in fleets if f.get("allSucceededSeconds")]
    counts = [f["workers"] for f in done]
    walls = [f["allSucceededSeconds"] for f in done]
    right.plot(counts, walls, marker="o", label="all Succeeded (measured)")
    one = next((f["allSucceededSeconds"] for f in done if f["workers"] == 1), None)
    if one:
        right.plot(counts, [max(one / n, critical_path_seconds) for n in counts], linestyle=":", color="grey",
                   label="ideal: one worker's time / N, not below the critical path")
    right.axhline(critical_path_seconds, color="grey", linestyle="--", linewidth=1, label="critical path")
    for n, wall in zip(counts, walls, strict=True):
        right.annotate(f"{wall:.0f} s", (n, wall), textcoords="offset points", xytext=(6, 4))
    right.set_xticks(counts)
    right.set_xlim(min(counts) - 0.3, max(counts) + 0.5)
    right.set_xlabel(f"worker processes (machine: {nproc} cores)")
    right.set_ylabel("seconds to all Succeeded")
    right.set_ylim(bottom=0)
    right.set_title("time to the whole fleet")
    right.grid(alpha=0.3)
    right.legend(loc="lower left", fontsize="small")
    fig.suptitle("aksvend scale-out: worker processes consuming the same queues, ARM throttling on")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
