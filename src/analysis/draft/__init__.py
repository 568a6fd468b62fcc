"""The Word draft of the annual report (a 公文 in GB/T 9704 page format) and its PDF print preview: what
the draft says (:mod:`~analysis.draft.plan`, each absent value told truly by :mod:`~analysis.draft.values`),
the annex's print figures (:mod:`~analysis.draft.annex`), how it is laid out in Word
(:mod:`~analysis.draft.document`, :mod:`~analysis.draft.style`), the PDF preview through LibreOffice
(:mod:`~analysis.draft.preview`), keeping a draft someone edited (:mod:`~analysis.draft.edits`), and
writing it for a report folder or alone from the processed tables (:mod:`~analysis.draft.writer`).

May import ``core`` and ``explore`` (the views and sentences the text is drafted from); nothing from
``site``, ``execute`` or ``report``.
"""
