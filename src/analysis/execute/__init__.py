"""Running parameterized notebooks in isolated kernels: one fresh kernel per notebook, warm worker
processes that start the next kernel ahead (:mod:`~analysis.execute.pool`, :mod:`~analysis.execute.warm`),
kernels forked from a warm server instead of spawned (:mod:`~analysis.execute.forkserver`, the default on POSIX;
``FAZHI_KERNEL_START=spawn`` refuses it),
a Dask cluster instead (:mod:`~analysis.execute.cluster`), per-cell timeouts, kernel start retries and
kernel-death recovery (:mod:`~analysis.execute.runner`), and the project's kernel spec
(:mod:`~analysis.execute.kernel`). The pool also runs a caller's own steps (any module-level function of
one job dict) beside the notebooks.

Imports nothing from the other ``analysis`` packages: no catalog, no pages; it could be lifted into
another project as it is.
"""
