"""analysis: a study's Ray results directory -> tidy pandas frames -> statistics -> report files and plots.

    from analysis import load_results, write_report
    trials, history, summary, effects = load_results("results/k_sweep")
    write_report("results/k_sweep")          # or: python -m analysis.report results/k_sweep

Reads only what a results directory holds (JSON, CSV, checkpoints), never unpickles, and needs no Ray and no torch,
so it runs anywhere, later, on a copy: the figures drawn from checkpoints come from ``python -m gan_core.render``, run
in a subprocess (``analysis.figures``), and are skipped, with one line saying so, where torch is not installed.
"""
from analysis.fsio import ResultsError
from analysis.results import Results, load_results

__all__ = ["Results", "ResultsError", "load_results", "write_report"]


def __getattr__(name: str):
    # Imported on first use: importing analysis.report here would make `python -m analysis.report` warn that the
    # module was already imported before it ran.
    if name == "write_report":
        from analysis.report import write_report

        return write_report
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
