"""The Word draft of the annual report (a 公文 in GB/T 9704 page format) and its PDF print preview: what
the draft says (:mod:`~analysis.draft.plan`), how it is laid out in Word (:mod:`~analysis.draft.document`,
:mod:`~analysis.draft.style`), the PDF preview through LibreOffice (:mod:`~analysis.draft.preview`), and
writing it for a report folder or alone from the processed tables (:mod:`~analysis.draft.writer`).

May import ``core`` and ``explore`` (the views and sentences the text is drafted from); nothing from
``site``, ``execute`` or ``report``.
"""
