"""Where results go: one write_results() for every benchmark (CSV, JSON and a PNG chart in
bench/results/, each carrying the machine), and the few chart helpers they share."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bench.machine import MachineInfo, machine_line
from bench.metrics import STATE_LABELS, StateFigures
from vendas.formatting import fmt_float, fmt_int

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"

Cell = str | int | float
Row = Mapping[str, Cell]


def fmt_mib(n_bytes: float) -> str:
    return f"{fmt_int(n_bytes / 2**20)} MiB"


def state_text(state: StateFigures) -> str:
    """Rows and memory per stateful operator, for the output."""
    return "; ".join(f"{STATE_LABELS.get(name, name)}: {fmt_int(s['linhas'])} linhas, "
                     f"{fmt_mib(s['memoria'])}" for name, s in state.items()) or "-"


def write_results(out: Path, name: str, rows: Sequence[Row], machine: MachineInfo,
                  summary: Mapping[str, Cell] | None = None,
                  figure: Figure | None = None, quiet: bool = False) -> list[Path]:
    """Write `name`.csv (one row per measurement, after `# chave: valor` lines describing
    the machine), `name`.json (machine, summary, rows) and, if given, `name`.png; print
    (unless `quiet`) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / f"{name}.csv", out / f"{name}.json"
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with open(csv_path, "w", newline="") as stream:
        stream.writelines(f"# {key}: {value}\n" for key, value in machine.items())
        writer = csv.DictWriter(stream, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    document = {"maquina": dict(machine), "resumo": dict(summary or {}),
                "execucoes": [dict(row) for row in rows]}
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    paths = [csv_path, json_path]
    if figure is not None:
        png_path = out / f"{name}.png"
        save_chart(figure, machine, png_path)
        paths.append(png_path)
    if not quiet:
        print(f"\nresultados: {', '.join(str(p) for p in paths)}")
    return paths


def save_chart(figure: Figure, machine: MachineInfo, path: Path, bottom: float = 0.06) -> None:
    """Write the figure with the machine it was measured on as a footnote."""
    figure.text(0.01, 0.01, machine_line(machine), fontsize=6.5, color="#555555", ha="left",
                va="bottom", wrap=True)
    figure.tight_layout(rect=(0, bottom, 1, 1))
    figure.savefig(path, dpi=120)


def thousands_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels with Brazilian thousands separators."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: fmt_int(v)))


def millions_axis(ax: Axes) -> None:
    """X tick labels in millions (0,5; 1; 1,5...)."""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_float(v / 1e6, 1)
                                               .replace(",0", "")))
