"""The thin orchestration of a report: which reports to build (:mod:`~analysis.report.targets`), whether
they changed (:mod:`~analysis.report.builds`), the steps of one report (:mod:`~analysis.report.steps`),
staging and publishing (:mod:`~analysis.report.publish`), the summary workbook
(:mod:`~analysis.report.summary`), the batch that plans it all (:mod:`~analysis.report.batch`) and hands
the steps to the workers (:mod:`~analysis.report.dispatch`).

May import every other package (``core``, ``explore``, ``execute``, ``site``, ``draft``); none imports it.
"""
