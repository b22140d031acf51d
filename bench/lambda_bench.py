#!/usr/bin/env python3
"""Cold start and footprint of the Lambda bootstrap, through the local Runtime API emulator.

    lambda_bench.py BOOTSTRAP MIN_RUNTIME MODULE_DIR [--reps R] [--invocations N]

Side by side in one run:
  1. process start -> first GET /next: the bootstrap against MIN_RUNTIME (bench/min_runtime.c, a
     C program that only performs that GET), best and median of R spawns each, interleaved;
  2. the first invocation's latency (queued -> answer) and a warm invocation's (median of the
     later ones), for a direct-op event;
  3. resident memory: VmHWM (peak) and VmRSS after 100 and after N invocations (flat = no growth).
Prints markdown; exit status 1 when a target is missed (start within 3 ms of the floor, peak RSS
under 4 MB, RSS flat), so the result cannot be misread.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from lambda_emulator import Emulator  # noqa: E402

EVENT = {"op": "utility.truncate", "args": {"text": "hello world", "max_bytes": 5}}


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def start_to_next(emulator, command, env):
    runtime = emulator.spawn(command, extra_env=env, stdout=open(os.devnull, "wb"), stderr=open(os.devnull, "wb"))
    t_next = emulator.wait_for_next(10)
    if t_next is None:
        raise RuntimeError(f"{command[0]} never asked for an event")
    ms = (t_next - runtime.started_at) * 1e3
    runtime.stop(grace_s=2)
    return ms


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstrap")
    parser.add_argument("min_runtime")
    parser.add_argument("module_dir")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--invocations", type=int, default=1000)
    args = parser.parse_args()
    env = {"SUGA_MODULE_DIR": os.path.abspath(args.module_dir), "LOG_LEVEL": "error", "SUGA_GUARD_STATE_FILE": ""}

    boot, floor = [], []
    with Emulator() as emulator:
        for _ in range(args.reps):  # interleaved: a noisy moment hits both alike
            floor.append(start_to_next(emulator, [args.min_runtime], env))
            boot.append(start_to_next(emulator, [args.bootstrap], env))

    with Emulator() as emulator:
        runtime = emulator.spawn([args.bootstrap], extra_env=env, stdout=open(os.devnull, "wb"),
                                 stderr=open(os.devnull, "wb"))
        emulator.wait_for_next(10)
        latencies, rss_100 = [], None
        for i in range(args.invocations):
            rid = emulator.invoke(EVENT)
            rec = emulator.wait(rid, 10)
            if rec["outcome"] != "response":
                raise RuntimeError(f"invocation {i}: {rec}")
            latencies.append((rec["finished_at"] - rec["queued_at"]) * 1e3)
            if i == 99:
                rss_100 = status_kb(runtime.pid, "VmRSS")
        emulator.wait_for_next(10)
        rss_end, hwm = status_kb(runtime.pid, "VmRSS"), status_kb(runtime.pid, "VmHWM")
        runtime.stop(grace_s=2)

    gap = statistics.median(boot) - statistics.median(floor)
    warm = statistics.median(latencies[1:])
    print("| measure | bootstrap | min_runtime (floor) |")
    print("|---|---:|---:|")
    print(f"| start → first GET /next, median of {args.reps} (ms) | {statistics.median(boot):.2f} | "
          f"{statistics.median(floor):.2f} |")
    print(f"| start → first GET /next, best (ms) | {min(boot):.2f} | {min(floor):.2f} |")
    print(f"| first invocation, queued → answered (ms) | {latencies[0]:.3f} | |")
    print(f"| warm invocation, median of {len(latencies) - 1} (ms) | {warm:.3f} | |")
    print(f"| VmRSS after 100 / {args.invocations} invocations (KiB) | {rss_100} / {rss_end} | |")
    print(f"| VmHWM, peak RSS (KiB) | {hwm} | |")
    print()
    ok_start, ok_peak, ok_flat = gap <= 3.0, hwm < 4096, rss_end <= rss_100
    print(f'Target "start to first /next within 3 ms of the floor": {"met" if ok_start else "**NOT met**"} '
          f"({gap:+.2f} ms, medians)")
    print(f'Target "peak RSS under 4 MB on direct-op events": {"met" if ok_peak else "**NOT met**"} ({hwm} KiB)')
    print(f'Target "RSS flat over {args.invocations} invocations": {"met" if ok_flat else "**NOT met**"} '
          f"({rss_100} → {rss_end} KiB)")
    return 0 if ok_start and ok_peak and ok_flat else 1


if __name__ == "__main__":
    sys.exit(main())
