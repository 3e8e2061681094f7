#!/usr/bin/env python3
"""Print a Markdown table of the medians criterion stored under
target/criterion, pairing each `sdk` benchmark with its `raw` baseline.

Usage: python3 benches/summarize.py [CRITERION_DIR]
"""

import json
import pathlib
import sys


def format_time(nanoseconds):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if nanoseconds >= scale:
            return f"{nanoseconds / scale:.3g} {unit}"
    return f"{nanoseconds:.3g} ns"


def load_medians(root):
    """Return {(group, function, parameter): (median_ns, elements)}."""
    medians = {}
    for benchmark_file in root.glob("**/new/benchmark.json"):
        benchmark = json.loads(benchmark_file.read_text())
        estimates = json.loads((benchmark_file.parent / "estimates.json").read_text())
        throughput = benchmark.get("throughput") or {}
        key = (benchmark["group_id"], benchmark["function_id"] or "", benchmark["value_str"] or "")
        medians[key] = (estimates["median"]["point_estimate"], throughput.get("Elements"))
    return medians


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    medians = load_medians(root)
    if not medians:
        sys.exit(f"no criterion results under {root}: run cargo bench first")
    print("| benchmark | SDK median | raw median | SDK/raw time | SDK/raw throughput |")
    print("| --- | --- | --- | --- | --- |")
    def order(item):
        group, function, parameter = item[0]
        return (group, int(parameter) if parameter.isdigit() else 0, function)

    for (group, function, parameter), (median, elements) in sorted(medians.items(), key=order):
        if function == "raw":
            continue
        name = "/".join(part for part in (group, function, parameter) if part)
        raw = medians.get((group, "raw", parameter)) if function == "sdk" else None
        if raw is None:
            rate = f" ({elements / median * 1e9:,.0f} per s)" if elements else ""
            print(f"| {name} | {format_time(median)}{rate} | | | |")
            continue
        ratio = median / raw[0]
        print(
            f"| {group}/{parameter or '-'} | {format_time(median)} | {format_time(raw[0])} "
            f"| {ratio:.3f} | {1 / ratio:.3f} |"
        )


if __name__ == "__main__":
    main()
