"""The catalog's arithmetic expressions over indicator ids (``a.b - c.d + e.f``, ``100 * a / b``).

One parser and one evaluator for every place that computes with the catalog: ingest checks, derived
indicators, notebook tables, charts and drafted sentences. Safe (no ``eval``): only indicator ids,
numbers, ``+ - * /``, unary minus and brackets. Besides the plain value, an expression evaluates over
intervals (:meth:`Expression.bounds`): each operand may stand for a range (a rate written ``96`` means
95.5–96.5), and the range is carried through the arithmetic.
"""

from __future__ import annotations

import ast
import math
import operator

from analysis.core.formatting import format_number

Bounds = tuple[float, float]

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_SYMBOLS = {ast.Add: " + ", ast.Sub: " − ", ast.Mult: " × ", ast.Div: " ÷ "}


class CatalogError(ValueError):
    """The catalog file itself is wrong, e.g. an expression this module does not accept (a developer's or
    maintainer's error, not a department's); re-exported by :mod:`analysis.core.catalog`."""


class Expression:
    """A tiny arithmetic expression over indicator ids (``a.b + c.d * 2``); safe: no eval."""

    def __init__(self, source: str):
        self.source = source
        try:
            tree = ast.parse(source, mode="eval").body
        except SyntaxError as exc:
            raise CatalogError(f"表达式无法解析：{source}（{exc.msg}）") from exc
        self._tree = tree
        self.names: tuple[str, ...] = tuple(dict.fromkeys(self._collect(tree)))

    def _collect(self, node: ast.AST) -> list[str]:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return self._collect(node.left) + self._collect(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._collect(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return []
        if isinstance(node, ast.Attribute | ast.Name):
            return [self._dotted(node)]
        raise CatalogError(f"表达式只能包含指标编码、数字、+ - * / 和括号：{self.source}")

    def _dotted(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return f"{self._dotted(node.value)}.{node.attr}"
        raise CatalogError(f"表达式中的名称无效：{self.source}")

    # --- values ---------------------------------------------------------------------------------

    def evaluate(self, values: dict[str, float]) -> float:
        """Evaluate with ``values``; raises KeyError for a missing name, ZeroDivisionError as Python does."""
        return self._eval(self._tree, values)

    def _eval(self, node: ast.AST, values: dict[str, float]) -> float:
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](self._eval(node.left, values), self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            return -self._eval(node.operand, values)
        if isinstance(node, ast.Constant):
            return float(node.value)
        return float(values[self._dotted(node)])

    def bounds(self, values: dict[str, float], halfwidths: dict[str, float]) -> Bounds:
        """The range the expression can take when each name ``n`` may lie anywhere in
        ``values[n] ± halfwidths[n]`` (0 when absent): interval arithmetic. A divisor range that
        reaches zero gives an unbounded range. Raises KeyError for a missing value."""
        return self._bounds(self._tree, values, halfwidths)

    def _bounds(self, node: ast.AST, values: dict[str, float], half: dict[str, float]) -> Bounds:
        if isinstance(node, ast.BinOp):
            (a, b), (c, d) = self._bounds(node.left, values, half), self._bounds(node.right, values, half)
            if isinstance(node.op, ast.Add):
                return a + c, b + d
            if isinstance(node.op, ast.Sub):
                return a - d, b - c
            if isinstance(node.op, ast.Div):
                if c <= 0 <= d:
                    return -math.inf, math.inf
                c, d = 1 / d, 1 / c
            products = [x * y for x in (a, b) for y in (c, d) if not (math.isinf(x) or math.isinf(y))]
            if len(products) < 4:
                return -math.inf, math.inf
            return min(products), max(products)
        if isinstance(node, ast.UnaryOp):
            low, high = self._bounds(node.operand, values, half)
            return -high, -low
        if isinstance(node, ast.Constant):
            return float(node.value), float(node.value)
        name = self._dotted(node)
        value, h = float(values[name]), abs(half.get(name, 0.0))
        return value - h, value + h

    # --- shape ----------------------------------------------------------------------------------

    @property
    def is_name(self) -> bool:
        """True when the expression is a single indicator id."""
        return isinstance(self._tree, ast.Attribute | ast.Name)

    def signed_terms(self) -> list[tuple[int, str]]:
        """``a - b + c`` → [(+1, a), (-1, b), (+1, c)]; ValueError unless a sum or difference of ids."""

        def walk(node: ast.AST, sign: int) -> list[tuple[int, str]]:
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
                right = sign if isinstance(node.op, ast.Add) else -sign
                return walk(node.left, sign) + walk(node.right, right)
            if isinstance(node, ast.Attribute | ast.Name):
                return [(sign, self._dotted(node))]
            raise ValueError(f"not a sum of indicators: {self.source}")

        return walk(self._tree, 1)

    def render(self, label: dict[str, str]) -> str:
        """The expression in words for a message: names replaced by ``label[name]`` (e.g. "调整前（2705）")."""

        def walk(node: ast.AST, parent_prec: int = 0) -> str:
            if isinstance(node, ast.BinOp):
                prec = 1 if isinstance(node.op, ast.Add | ast.Sub) else 2
                text = walk(node.left, prec) + _SYMBOLS[type(node.op)] + walk(node.right, prec + 1)
                return f"({text})" if prec < parent_prec else text
            if isinstance(node, ast.UnaryOp):
                return "−" + walk(node.operand, 3)
            if isinstance(node, ast.Constant):
                return format_number(float(node.value))
            name = self._dotted(node)
            return label.get(name, name)

        return walk(self._tree)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"
