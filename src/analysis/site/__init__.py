"""The HTML site: the page of each executed notebook (:mod:`~analysis.site.pages`), a report's index
(:mod:`~analysis.site.index`), the overview of all reports (:mod:`~analysis.site.overview`), sanitizing
(:mod:`~analysis.site.sanitizer`), the offline assets and CSP (:mod:`~analysis.site.static`) and the CJK web
font (:mod:`~analysis.site.webfont`). Every page works from ``file://`` with no network.

May import ``core``, ``explore`` (the tables and charts an index shows) and ``execute`` (how a notebook
ran, what its outputs are); nothing from ``draft`` or ``report``.
"""
