# SPDX-License-Identifier: Apache-2.0
"""Turn the measurements of a benchmark run into medians, ratios and a table.

Each measurement is a dict with at least tool, target, phase and round,
plus the measured values. A value in the table is the median over the
rounds whose run counts (see counts()), and a ratio is the ecr-sync median
divided by the other tool's median.
"""

import statistics

MIB = 1024 * 1024


class Goal:
    """A goal for one table row, checked against the ratio or the ecr-sync value."""

    def __init__(self, text, check, on_ratio):
        self.text = text
        self.check = check
        self.on_ratio = on_ratio

    def met(self, ours, ratio):
        value = ratio if self.on_ratio else ours
        if value is None:
            return None
        return self.check(value)


def ratio_at_most(limit):
    return Goal(f"ratio <= {limit:g}", lambda ratio: ratio <= limit, on_ratio=True)


def ratio_at_least(limit):
    return Goal(f"ratio >= {limit:g}", lambda ratio: ratio >= limit, on_ratio=True)


def ours_at_most(limit, unit):
    return Goal(f"ecr-sync <= {limit:g}{unit}", lambda value: value <= limit, on_ratio=False)


# (label, phase, value function, decimals, goal); value functions take one
# measurement dict and return a number.
SYNC_ROWS = (
    ("first full sync, wall (s)", "first", lambda m: m["wall_seconds"], 2, ratio_at_most(0.5)),
    ("first full sync, CPU (s)", "first", lambda m: m["cpu_seconds"], 2, None),
    ("no-op re-sync, wall (s)", "noop", lambda m: m["wall_seconds"], 2, ratio_at_most(0.1)),
    ("no-op re-sync, CPU (s)", "noop", lambda m: m["cpu_seconds"], 2, None),
    ("peak RSS, first sync (MiB)", "first", lambda m: m["peak_rss_kib"] / 1024, 1,
     ours_at_most(32, " MiB")),
    ("peak RSS, no-op (MiB)", "noop", lambda m: m["peak_rss_kib"] / 1024, 1,
     ours_at_most(32, " MiB")),
    ("requests sent, first sync", "first", lambda m: m["requests"], 0, None),
    ("requests sent, no-op", "noop", lambda m: m["requests"], 0, None),
    ("source manifest GETs, first sync", "first", lambda m: m["source_manifest_gets"], 0, None),
    ("source manifest GETs, no-op", "noop", lambda m: m["source_manifest_gets"], 0,
     ours_at_most(0, "")),
    ("bytes read from source, first sync (MiB)", "first", lambda m: m["source_bytes"] / MIB, 1,
     None),
    ("bytes read from source, no-op (MiB)", "noop", lambda m: m["source_bytes"] / MIB, 2, None),
)

BLOB_ROWS = (
    ("single-blob throughput (MiB/s)", "blob",
     lambda m: m["blob_bytes"] / MIB / m["wall_seconds"], 1, ratio_at_least(0.8)),
    ("single-blob copy, peak RSS (MiB)", "blob", lambda m: m["peak_rss_kib"] / 1024, 1,
     ours_at_most(32, " MiB")),
)


def counts(measurement, measurements):
    """Return whether a run enters the medians.

    A run counts when it exited with status 0 in time. A no-op run counts
    only when the first sync before it in the same round also did, because
    after a failed first sync the re-sync has work to do.
    """
    if measurement["returncode"] != 0 or measurement.get("timed_out"):
        return False
    if measurement["phase"] != "noop":
        return True
    return any(other["phase"] == "first" and other["returncode"] == 0
               and not other.get("timed_out")
               for other in measurements
               if other["tool"] == measurement["tool"]
               and other["target"] == measurement["target"]
               and other["round"] == measurement["round"])


def median_of(measurements, tool, target, phase, value):
    values = [value(m) for m in measurements
              if m["tool"] == tool and m["target"] == target and m["phase"] == phase
              and counts(m, measurements)]
    return statistics.median(values) if values else None


def build_rows(measurements, targets, with_goals=True, other_sync_tool="skopeo",
               other_blob_tool="curl"):
    """Return table rows as dicts: label, target, ours, theirs, ratio, decimals, goal, met.

    Without with_goals, the goal and met fields stay empty.
    """
    rows = []
    for target in targets:
        for label, phase, value, decimals, goal in SYNC_ROWS:
            rows.append(_row(measurements, label, target, phase, value, decimals,
                             goal if with_goals else None, other_sync_tool))
    blob_targets = sorted({m["target"] for m in measurements if m["phase"] == "blob"})
    for target in blob_targets:
        for label, phase, value, decimals, goal in BLOB_ROWS:
            rows.append(_row(measurements, label, target, phase, value, decimals,
                             goal if with_goals else None, other_blob_tool))
    return rows


def _row(measurements, label, target, phase, value, decimals, goal, other_tool):
    ours = median_of(measurements, "ecr-sync", target, phase, value)
    theirs = median_of(measurements, other_tool, target, phase, value)
    ratio = ours / theirs if ours is not None and theirs else None
    met = goal.met(ours, ratio) if goal is not None else None
    return {"label": label, "target": target, "other_tool": other_tool, "ours": ours,
            "theirs": theirs, "ratio": ratio, "decimals": decimals,
            "goal": goal.text if goal else "", "met": met}


def _number(value, decimals):
    if value is None:
        return "n/a"
    if decimals == 0:
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def markdown_table(rows):
    """Return the rows as a Markdown table."""
    lines = ["| measure | target | ecr-sync | other tool | other | ecr-sync / other | goal | met |",
             "|---|---|---:|---|---:|---:|---|---|"]
    for row in rows:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.3f}"
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        other = "curl pipe" if row["other_tool"] == "curl" else row["other_tool"]
        lines.append(f"| {row['label']} | {row['target']} | "
                     f"{_number(row['ours'], row['decimals'])} | {other} | "
                     f"{_number(row['theirs'], row['decimals'])} | {ratio} | "
                     f"{row['goal']} | {met} |")
    return "\n".join(lines)


def runs_table(measurements):
    """Return every measurement as a Markdown table, for the record."""
    lines = ["| round | target | tool | phase | exit | in medians | wall (s) | CPU (s) "
             "| peak RSS (MiB) | requests | source manifest GETs | source MiB |",
             "|---:|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for m in measurements:
        rss = "n/a" if m.get("peak_rss_kib") is None else f"{m['peak_rss_kib'] / 1024:.1f}"
        counted = "yes" if counts(m, measurements) else "**no**"
        lines.append(
            f"| {m['round']} | {m['target']} | {m['tool']} | {m['phase']} | {m['returncode']} | "
            f"{counted} | "
            f"{m['wall_seconds']:.2f} | {m['cpu_seconds']:.2f} | {rss} | "
            f"{m.get('requests', 'n/a')} | {m.get('source_manifest_gets', 'n/a')} | "
            f"{m.get('source_bytes', 0) / MIB:.1f} |")
    return "\n".join(lines)
