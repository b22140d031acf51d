#!/usr/bin/env python3
"""Warm Alexa TurnOn latency and the Alexa path's memory, through the Runtime API emulator and
the fake Home Assistant.

    alexa_bench.py BOOTSTRAP MODULE_DIR [--invocations N]

One bootstrap serves a Discovery, then N TurnOn/TurnOff directives for light#kitchen (alternating,
so every one changes the state). Per invocation: total = queued -> answered at the emulator;
fake = the time the fake Home Assistant spent in its handlers for it (server_time_ms delta);
engine overhead = total - fake (this still includes the emulator's and the loopback's share).
Then VmHWM (peak RSS) of the bootstrap, target: at most 12 MB on the Alexa path. Prints markdown;
exit status 1 when the RSS target is missed.
"""

import argparse
import os
import statistics
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from fake_home_assistant import ALEXA_TOKEN, FakeHomeAssistant  # noqa: E402
from lambda_emulator import Emulator  # noqa: E402


def directive(namespace, name, endpoint=None):
    d = {"header": {"namespace": namespace, "name": name, "messageId": str(uuid.uuid4()), "payloadVersion": "3",
                    "correlationToken": "bench"}, "payload": {}}
    scope = {"type": "BearerToken", "token": ALEXA_TOKEN}
    if endpoint:
        d["endpoint"] = {"endpointId": endpoint, "scope": scope}
    else:
        d["payload"]["scope"] = scope
    return {"directive": d}


def kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstrap")
    parser.add_argument("module_dir")
    parser.add_argument("--invocations", type=int, default=300)
    args = parser.parse_args()
    with FakeHomeAssistant(tokens=[ALEXA_TOKEN]) as ha, Emulator() as emulator:
        env = {"SUGA_MODULE_DIR": os.path.abspath(args.module_dir), "LOG_LEVEL": "error",
               "SUGA_GUARD_STATE_FILE": "", "HOME_ASSISTANT_URL": ha.url}
        runtime = emulator.spawn([args.bootstrap], extra_env=env, stdout=open(os.devnull, "wb"),
                                 stderr=open(os.devnull, "wb"))

        def invoke(event):
            before = ha.server_time_ms()
            rec = emulator.wait(emulator.invoke(event, timeout_ms=8000), 10)
            if rec["outcome"] != "response" or rec["body"]["event"]["header"]["name"] == "ErrorResponse":
                raise RuntimeError(f"unexpected answer: {rec}")
            total = (rec["finished_at"] - rec["queued_at"]) * 1e3
            return total, ha.server_time_ms() - before

        first_total, first_fake = invoke(directive("Alexa.Discovery", "Discover"))
        totals, fakes = [], []
        for i in range(args.invocations):
            name = "TurnOn" if i % 2 == 0 else "TurnOff"
            total, fake = invoke(directive("Alexa.PowerController", name, "light#kitchen"))
            totals.append(total)
            fakes.append(fake)
        emulator.wait_for_next(10)
        hwm, rss = kb(runtime.pid, "VmHWM"), kb(runtime.pid, "VmRSS")
        runtime.stop(grace_s=2)

    overheads = [t - f for t, f in zip(totals, fakes)]
    print("| measure | ms |")
    print("|---|---:|")
    print(f"| first invocation (Discovery; loads http_client and libcurl, connects), total | {first_total:.2f} |")
    print(f"| first invocation, of which the fake Home Assistant | {first_fake:.2f} |")
    print(f"| warm TurnOn/TurnOff, total, median of {args.invocations} | {statistics.median(totals):.3f} |")
    print(f"| warm, of which the fake Home Assistant (median) | {statistics.median(fakes):.3f} |")
    print(f"| warm, engine overhead = total - fake (median) | {statistics.median(overheads):.3f} |")
    print(f"| warm, engine overhead, 90th percentile | {sorted(overheads)[int(len(overheads) * 0.9)]:.3f} |")
    print()
    print(f"Peak RSS (VmHWM) on the Alexa path: {hwm} KiB (VmRSS at the end {rss} KiB).")
    ok = hwm <= 12 * 1024
    print(f'Target "peak RSS at most 12 MB on the Alexa path": {"met" if ok else "**NOT met**"} ({hwm} KiB)')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
