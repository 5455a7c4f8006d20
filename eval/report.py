"""Write a run's report: Markdown + JSON + a bar chart, under var/reports/<timestamp>-<name>/."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from ingest.settings import PROJECT_ROOT

REPORTS_DIR = PROJECT_ROOT / "var" / "reports"


def git_commit() -> str | None:
    """The checkout's short commit, for the report header (None outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def report_dir(name: str) -> Path:
    path = REPORTS_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(fmt(r.get(c)) for c in columns) + " |\n" for r in rows)


def bar_chart(path: Path, series: dict[str, dict[str, float | None]], title: str, ylabel: str = "score") -> None:
    """Grouped bars: one group per metric, one bar per system; the legend sits right of the plot."""
    import matplotlib.pyplot as plt

    fig = bar_figure(series, title, ylabel)
    # "tight" grows the saved image to take in the legend placed outside the axes.
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def bar_figure(series: dict[str, dict[str, float | None]], title: str, ylabel: str = "score") -> Any:
    """The matplotlib Figure ``bar_chart`` saves (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(series)
    metrics = list(dict.fromkeys(m for s in series.values() for m in s))
    width = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(metrics) + 2), 4.2), dpi=120)
    for i, name in enumerate(systems):
        points = [(j + (i - (len(systems) - 1) / 2) * width, series[name].get(m)) for j, m in enumerate(metrics)]
        present = [(x, v) for x, v in points if v is not None]
        bars = ax.bar([x for x, _ in present], [v for _, v in present], width, label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" for _, v in present], fontsize=7, padding=1)
        # A value the run did not measure gets a dash on the axis, not a bar of height 0.
        for x in (x for x, v in points if v is None):
            ax.text(x, 0, "–", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(metrics)), metrics, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    # Outside the axes: inside, it covered the tallest bars and their value labels.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def write(folder: Path, markdown: str, data: dict[str, Any]) -> None:
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
