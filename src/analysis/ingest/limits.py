"""Resource limits for one submitted file, each overridable by a ``FAZHI_*`` environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from analysis.core.text import clip


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submitted file. Sizes in MB (2**20 bytes).

    The defaults leave a wide margin over real submissions (a department's workbook is well under 1 MB;
    a 100,000-row sheet is about 4 MB on disk, 20 MB inflated, ratio about 10) while keeping a zip bomb far
    below what would exhaust memory. Each can be overridden by the environment variable in its comment.
    """

    max_file_mb: float = 50  # FAZHI_MAX_FILE_MB: size of the file on disk
    max_uncompressed_mb: float = 200  # FAZHI_MAX_UNCOMPRESSED_MB: sum of the members' declared sizes
    max_member_mb: float = 100  # FAZHI_MAX_MEMBER_MB: declared size of the largest member
    max_ratio: float = 100  # FAZHI_MAX_RATIO: inflated/compressed size of one member …
    ratio_floor_mb: float = 1  # FAZHI_RATIO_FLOOR_MB: … checked only for members larger than this
    max_members: int = 2000  # FAZHI_MAX_MEMBERS: number of members in the archive
    max_cells: int = 2_000_000  # FAZHI_MAX_CELLS: cells an .ods sheet area may expand to (repeated rows)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, overridden by ``FAZHI_<FIELD>`` variables (e.g. ``FAZHI_MAX_UNCOMPRESSED_MB=500``)."""
        env = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for field in fields(cls):
            var = f"FAZHI_{field.name.upper()}"
            raw = env.get(var, "").strip()
            if not raw:
                continue
            try:
                value = int(raw) if field.type in ("int", int) else float(raw)
            except ValueError:
                value = -1
            if not value > 0:
                raise ValueError(f"环境变量 {var} 的值“{clip(raw, 20)}”无效，应为正数。")
            values[field.name] = value
        return cls(**values)
