"""法治政府建设情况报告 data suite: ingest, checks, notebooks and offline reports."""

__version__ = "0.1.0"
