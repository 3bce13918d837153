"""The HTML report: one page with every study's claims, figures and a short reading."""

from occam.report.html import ReportError, build_report, collect_runs

__all__ = ["ReportError", "build_report", "collect_runs"]
