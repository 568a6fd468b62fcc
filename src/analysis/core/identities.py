"""The one evaluator of the catalog's identities and derived indicators.

Ingest (``issues.csv``), the notebooks (``identity_table``), the charts (``balance``) and the drafted
sentences all ask :meth:`analysis.core.catalog.Catalog.check` and get the same :class:`Verdict`: the
two sides, the gap with one sign (**gap = right side − left side**, "reported minus computed"), the
range each side may take, and the Chinese words for it.

A figure is judged at the precision it was written with: a rate written ``96`` stands for anything in
95.5–96.5, ``95.9`` for 95.85–95.95, ``1.1万`` for 10500–11500. Each rounded operand contributes half a
unit of its last written digit, carried through the expression by interval arithmetic; the catalog's
own ``tolerance`` is added on top. Counts written as whole numbers are exact (6736 cases are 6736), so
the 2019 power list (2705 − 38 + 44 = 2711 ≠ 2660) is reported to the item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from analysis.core.expression import Bounds, Expression
from analysis.core.formatting import MISSING, decimals_zh, format_number

# Rounding noise of float arithmetic, relative to the size of the figures compared.
EPSILON = 1e-9


@dataclass(frozen=True)
class Identity:
    """``lhs = rhs`` (kind ``equal``) or ``lhs ≤ rhs`` (kind ``le``) over indicator ids."""

    id: str
    kind: str  # equal | le
    lhs: Expression
    rhs: Expression
    tolerance: float
    title_zh: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.lhs.names, *self.rhs.names)))

    def evaluate(
        self,
        values: dict[str, float],
        halfwidths: dict[str, float] | None = None,
        labels: dict[str, str] | None = None,
        precisions: dict[str, float] | None = None,
    ) -> Verdict:
        """The verdict on ``values`` (id → value). ``halfwidths``: how far each value may be off because it
        was rounded when written; ``labels``/``precisions`` only feed the words of the verdict."""
        labels, half = labels or {}, halfwidths or {}
        missing = tuple(n for n in self.names if n not in values)
        base = Verdict(self, labels=labels, precisions=precisions or {}, missing=missing)
        if missing:
            return base
        try:
            lhs, rhs = self.lhs.evaluate(values), self.rhs.evaluate(values)
        except ZeroDivisionError:
            return Verdict(self, labels=labels, zero_division=True)
        return Verdict(
            self,
            labels=labels,
            precisions=precisions or {},
            lhs=lhs,
            rhs=rhs,
            lhs_bounds=self.lhs.bounds(values, half),
            rhs_bounds=self.rhs.bounds(values, half),
        )


@dataclass(frozen=True)
class Verdict:
    """One identity judged on one region-year's figures."""

    identity: Identity
    labels: dict[str, str] = field(default_factory=dict)  # id → "名称 值" for the words
    precisions: dict[str, float] = field(default_factory=dict)  # id → unit of the last written digit
    missing: tuple[str, ...] = ()  # ids not reported: not checked
    zero_division: bool = False  # a divisor is 0: not checked
    lhs: float | None = None
    rhs: float | None = None
    lhs_bounds: Bounds | None = None
    rhs_bounds: Bounds | None = None

    @property
    def checked(self) -> bool:
        return self.lhs is not None and self.rhs is not None

    @property
    def gap(self) -> float | None:
        """Right side − left side (for a balance: the end as reported − the end computed)."""
        return self.rhs - self.lhs if self.checked else None  # type: ignore[operator]

    @property
    def holds(self) -> bool | None:
        """True/False once checked; None when a figure is missing or a divisor is zero."""
        if not self.checked:
            return None
        assert self.lhs_bounds is not None and self.rhs_bounds is not None
        (a, b), (c, d) = self.lhs_bounds, self.rhs_bounds
        slack = self.identity.tolerance + EPSILON * max(1.0, abs(self.lhs), abs(self.rhs))  # type: ignore[arg-type]
        if self.identity.kind == "equal":
            return a <= d + slack and c <= b + slack
        return a <= d + slack

    @property
    def exact(self) -> bool:
        """True when no operand was rounded (both sides are single numbers)."""
        return all(lo == hi for lo, hi in (self.lhs_bounds or (0, 0), self.rhs_bounds or (0, 0)))

    # --- words ------------------------------------------------------------------------------------

    def result_zh(self, names_zh: dict[str, str] | None = None) -> str:
        """成立 / 不成立 / 未检查（…）, as the notebook table shows it."""
        if self.missing:
            lacking = "、".join((names_zh or {}).get(n, n) for n in self.missing)
            return f"未检查（{MISSING}：{lacking}）"
        if self.zero_division:
            return "未检查（除数为零）"
        return "成立" if self.holds else "不成立"

    def fact(self) -> str:
        """What was compared, with the allowed range of each rounded side, and the outcome:

        ``… = 2711，而调整后行政职权事项 2660，相差 51`` or ``… = 95.88，人民调解成功率 96（整数，允许
        95.5–96.5），一致``. Empty when not checked."""
        if not self.checked:
            return ""
        x, lhs, rhs = self.identity, float(self.lhs), float(self.rhs)  # type: ignore[arg-type]
        left_allowed = self._allowed(x.lhs, self.lhs_bounds)
        right = x.rhs.render(self.labels)
        if x.kind == "equal":
            left = f"{x.lhs.render(self.labels)} = {format_number(lhs, 2)}{left_allowed}"
            if not x.rhs.is_name:
                right += f" = {format_number(rhs, 2)}"
            right += self._allowed(x.rhs, self.rhs_bounds)
            if self.holds:
                return f"{left}，{right}，一致"
            return f"{left}，而{right}，相差 {format_number(abs(rhs - lhs), 2)}"
        left = x.lhs.render(self.labels) + left_allowed
        right += self._allowed(x.rhs, self.rhs_bounds)
        if self.holds:
            return f"{left} 不超过 {right}"
        return f"{left} 大于 {right}（超出 {format_number(lhs - rhs, 2)}）"

    def _allowed(self, expr: Expression, bounds: Bounds | None) -> str:
        if bounds is None or bounds[0] == bounds[1]:
            return ""
        low, high = bounds
        if math.isinf(low) or math.isinf(high):
            return "（除数可能为零，无法确定范围）"
        if expr.is_name and expr.names[0] in self.precisions:
            unit = self.precisions[expr.names[0]]
            digits = max(0, round(-math.log10(unit)) + 1)
            return f"（{decimals_zh(unit)}，允许 {format_number(low, digits)}–{format_number(high, digits)}）"
        return f"（按各数的末位，允许 {format_number(low, 2)}–{format_number(high, 2)}）"


def halfwidth(precision: float | None, count: bool) -> float:
    """How far a written figure may be from the truth: half a unit of its last digit; none for a count
    written as a whole number (6736 cases are exactly 6736), nor when the precision is unknown."""
    if precision is None or not math.isfinite(precision) or precision <= 0:
        return 0.0
    if count and precision <= 1:
        return 0.0
    return precision / 2


def shown_digits(half: float, limit: int | None) -> int | None:
    """Decimals a value computed within ``± half`` may show: no finer than its inputs allow, no finer
    than the catalog's ``limit``; None means "as computed" (exact inputs, no limit)."""
    if half <= 0:
        return limit
    allowed = 0 if math.isinf(half) else max(0, math.ceil(-math.log10(half)) - 1)
    return allowed if limit is None else min(limit, allowed)
