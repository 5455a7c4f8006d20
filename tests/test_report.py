"""eval.report: tables and the bar chart written with every run's report."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from eval import report

# The shape of a real run: the own-eval metrics, ours near 1.0 (the tallest bars sit under the top right
# corner, where the legend used to be drawn) and two baselines.
SERIES = {
    "hybrid (ours)": {"doc_hit_at_1": 0.87, "doc_hit_at_5": 0.92, "numeric_accuracy": 1.0, "refusal_rate": 0.94},
    "bm25 only": {"doc_hit_at_1": 0.71, "doc_hit_at_5": 0.85, "numeric_accuracy": 1.0, "refusal_rate": 0.88},
    "dense only": {"doc_hit_at_1": 0.80, "doc_hit_at_5": 0.90, "numeric_accuracy": None, "refusal_rate": 0.97},
}


def _legend_and_tight_box(fig):
    """The legend's box and the box ``bbox_inches="tight"`` saves, both in inches."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    to_inches = fig.dpi_scale_trans.inverted()
    legend = fig.axes[0].get_legend()
    return legend.get_window_extent(renderer).transformed(to_inches), fig.get_tightbbox(renderer)


def test_legend_is_outside_the_bars() -> None:
    fig = report.bar_figure(SERIES, "yibao-qa on eval/questions.jsonl")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        (ax,) = fig.axes
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == list(SERIES)
        box = legend.get_window_extent(renderer)
        assert box.x0 >= ax.get_window_extent(renderer).x1  # right of the plot area
        # 3 systems × 4 metrics, each with its value; dense-only's missing numeric_accuracy has no bar, a dash
        assert len(ax.patches) == 11 and len(ax.texts) == 12
        assert sorted(round(p.get_height(), 2) for p in ax.patches)[0] == 0.71  # no bar of height 0
        assert [t.get_text() for t in ax.texts].count("–") == 1
        for artist in [*ax.patches, *ax.texts]:
            assert not box.overlaps(artist.get_window_extent(renderer))
    finally:
        plt.close(fig)


def test_bar_chart_png_takes_in_the_legend(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    report.bar_chart(path, SERIES, "yibao-qa on eval/questions.jsonl")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert plt.imread(path).shape[:2] == (height, width)
    fig = report.bar_figure(SERIES, "yibao-qa on eval/questions.jsonl")
    try:
        legend, tight = _legend_and_tight_box(fig)
        dpi = fig.dpi
    finally:
        plt.close(fig)
    assert tight.x1 >= legend.x1  # the saved box reaches the legend
    pad = 0.1  # savefig's default pad_inches
    assert width == pytest.approx((tight.width + 2 * pad) * dpi, abs=2)
    assert (legend.x1 - tight.x0 + pad) * dpi <= width  # the legend's right edge is inside the image


@pytest.mark.parametrize(("value", "text"), [(None, "–"), (0.8734, "0.873"), (12.34, "12.3"), (5, "5")])
def test_fmt(value, text) -> None:
    assert report.fmt(value) == text


def test_table() -> None:
    md = report.table([{"system": "hybrid", "doc_mrr": 0.8912}], ["system", "doc_mrr"])
    assert md == "| system | doc_mrr |\n|---|---|\n| hybrid | 0.891 |\n"
