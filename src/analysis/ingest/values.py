"""One value cell against its indicator: Excel errors, uncalculated formulas, parsing, the unit written
beside the figure (converted when the catalog knows how), sign, range and plausibility."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.catalog import Catalog, Indicator
from analysis.core.formatting import format_number
from analysis.core.numbers import Parsed, parse_value, split_multiplier, tidy_float
from analysis.core.schema import MAX_VALUE
from analysis.core.text import clip
from analysis.ingest.cells import Cell, cell_text


@dataclass(frozen=True)
class Value:
    value: float
    qualifier: str
    precision: float


def read_value(
    cell: Cell, indicator: Indicator, unit_text: str, catalog: Catalog
) -> tuple[tuple[str, str] | None, Value | None]:
    """(problem, value): a problem alone rejects the cell; a problem with a value is a warning."""
    if cell.error:
        return (
            "excel-error",
            f"单元格是 Excel 错误值 {cell.error}，数值未导入；请修正公式或直接填写数字",
        ), None
    if cell.formula and (cell.value is None or cell.value == ""):
        return (
            "formula-not-calculated",
            "单元格是公式，但文件中没有保存计算结果（常见于程序生成、从未在 Excel 中打开过的文件），数值未导入；"
            "请用 Excel 或 WPS 打开该文件、确认数值显示正确后保存，再重新报送",
        ), None
    parsed: Parsed = parse_value(cell.value, cell.number_format)
    if parsed.error:
        return (parsed.error, f"{parsed.reason}，数值未导入"), None
    if parsed.blank:
        return ("marked-not-reported", f"单元格填写为“{clip(cell_text(cell))}”，视为未填报（不计为 0）"), None
    unit = catalog.units[indicator.unit]
    value, precision = parsed.value, parsed.precision
    assert value is not None
    written = parsed.unit or unit_text
    if written and parsed.unit != "%":
        factor, base = split_multiplier(written)
        if catalog.resolve_unit(written) == (indicator.unit, 1.0):  # a unit named 万条 is not 万 × 条
            factor, base = 1.0, written
        resolved = catalog.resolve_unit(base)
        if resolved is None or resolved[0] != indicator.unit:
            return (
                "unit-mismatch",
                f"填写的单位“{clip(written)}”与指标“{indicator.name_zh}”的单位“{indicator.unit}”不符，且无法换算，数值未导入；"
                f"请按“{indicator.unit}”填报",
            ), None
        value, precision = value * factor * resolved[1], precision * factor * resolved[1]
    elif parsed.unit == "%" and indicator.unit != "%":
        return (
            "unit-mismatch",
            f"填写的是百分比，但指标“{indicator.name_zh}”的单位是“{indicator.unit}”，数值未导入；请填写{indicator.unit}数",
        ), None
    value = tidy_float(value)
    if abs(value) >= MAX_VALUE:
        return (
            "out-of-range",
            f"数值 {format_number(value)} 超过系统能保存的上限（{MAX_VALUE:.0e}），数值未导入；请核实（是否多写了位数或单位）",
        ), None
    if value < 0 and not indicator.allow_negative:
        return (
            "negative-value",
            f"数值 {format_number(value)} 为负数，{indicator.name_zh}不能为负，数值未导入；请核实后填写",
        ), None
    if unit.max is not None and value > unit.max:
        return (
            "out-of-range",
            f"数值 {format_number(value)}{indicator.unit} 超过上限 {format_number(unit.max)}，数值未导入；请核实（百分比请填写如 98.1 或 98.1%）",
        ), None
    result = Value(value=value, qualifier=parsed.qualifier, precision=tidy_float(precision))
    if unit.kind == "count" and not float(value).is_integer():
        return (
            "non-integer-count",
            f"{indicator.name_zh}是计数（{indicator.unit}），但填写了小数 {format_number(value)}；已导入，请核实",
        ), result
    if unit.kind == "percent" and 0 < value < 1 and parsed.unit != "%":
        return (
            "suspicious-rate",
            f"{indicator.name_zh}填写为 {format_number(value)}，按 {format_number(value)}% 导入；如果本意是 {format_number(value * 100)}%，请改填 {format_number(value * 100)}%",
        ), result
    return None, result
