"""Reports: the notebook batch, offline HTML pages, the summary workbook and the Word draft. Uses explore
and core."""
