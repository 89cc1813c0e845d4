"""Conditions, effects and text as Python code: the fast tier of the compiler.

`expr.compile_test`, `story.compile_effects` and `story.compile_text` make closures, which
are quick to make: a node compiled on demand, the first time a game reaches it, pays little.
A story played many times in one process (`Story.compile_all`) is worth more: there, each
condition, list of effects and text renderer is written out as the source of one small Python
function and compiled by Python itself, which runs it without a call per part.

The source is written only from checked IR trees (see `expr.parse`): variables are list
indices, constants are numbers, booleans and strings written with `repr`, and the only names
are the state, its values, the function's own constants and the helpers in `_GLOBALS`.
Nothing from a story file is ever run as code. What the functions do is exactly what the
closures do, in the same order (so random draws and errors come the same);
tests/engine/test_pycode.py compares both on random expressions, effects and text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .expr import (
    FLOAT,
    MAX_NUMBER,
    Fn,
    _checked,
    _div,
    _draws,
    _flatten,
    _floordiv,
    _mod,
    _same_var_equals,
    _value_test,
    checked_mul,
    compile_expr,
    compile_test,
    draw_groups,
)

if TYPE_CHECKING:
    from .story import Variable

# What writing or compiling the code of a tree can raise: a constant with no literal, or
# nesting deeper than Python's parser takes. The closures do the same job there.
CANNOT_WRITE = (ValueError, SyntaxError, RecursionError, MemoryError)

# Half the limit on a calculation (expr.MAX_NUMBER): well inside it, even after rounding.
SAFE = MAX_NUMBER // 2

_CMP_OPS = {"==", "!=", "<", "<=", ">", ">="}

# The only names generated code can reach (besides its own constants).
_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "_mul": checked_mul,
    "_checked": _checked,
    "_div": _div,
    "_fdiv": _floordiv,
    "_mod": _mod,
    "_int": int,
    "_float": float,
    "_bool": bool,
    "_abs": abs,
    "_min": min,
    "_max": max,
    "_isinstance": isinstance,
    "_len": len,
}


def _literal(value: Any) -> str:
    """A constant as Python source that evaluates to exactly that value."""
    t = type(value)
    if t is bool or t is int or t is str:
        return repr(value)
    if t is float and math.isfinite(value):
        return repr(value)
    raise ValueError(f"no literal for {value!r}")


class Writer:
    """Writes one function's source; names it needs beyond the helpers go into `consts`."""

    def __init__(self, variables: Sequence[Variable] | None = None) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.temps = 0
        self.variables = variables  # when known, their ranges spare checks that can't fail

    # -- what is known before running -----------------------------------------------------
    def bounds(self, tree: Any) -> tuple[Any, Any] | None:
        """The least and greatest value an arithmetic expression can have, when known."""
        kind = tree[0]
        if kind == "num":
            return tree[1], tree[1]
        if kind == "var" and self.variables is not None:
            var = self.variables[tree[1]]
            if var.type == "int":
                return var.min, var.max
            if var.type == "bool":
                return 0, 1
            return None
        if kind == "neg":
            inner = self.bounds(tree[1])
            return None if inner is None else (-inner[1], -inner[0])
        if kind == "bin" and tree[1] in ("+", "-", "*"):
            a, b = self.bounds(tree[2]), self.bounds(tree[3])
            if a is None or b is None:
                return None
            if tree[1] == "+":
                return a[0] + b[0], a[1] + b[1]
            if tree[1] == "-":
                return a[0] - b[1], a[1] - b[0]
            products = [x * y for x in a for y in b]
            return min(products), max(products)
        if kind == "call" and tree[1] in ("min", "max", "clamp"):
            args = [self.bounds(t) for t in tree[2:]]
            if any(b is None for b in args):
                return None
            lows = [b[0] for b in args if b is not None]
            highs = [b[1] for b in args if b is not None]
            return min(lows), max(highs)  # (wider than need be for min, max and clamp)
        return None

    def safe(self, tree: Any) -> bool:
        """Whether an expression's value is surely within the limit a calculation is checked
        against (so checking it could never fail)."""
        b = self.bounds(tree)
        return b is not None and -SAFE <= b[0] and b[1] <= SAFE

    def whole(self, tree: Any) -> bool:
        """Whether an expression's value is surely a whole number (an int, not a bool)."""
        kind = tree[0]
        if kind == "num":
            return type(tree[1]) is int
        if kind == "var":
            return self.variables is not None and self.variables[tree[1]].type == "int"
        if kind in ("visited", "turn"):
            return True
        if kind == "neg":
            return self.whole(tree[1])
        if kind == "bin":
            return tree[1] in ("+", "-", "*", "//", "%") and self.whole(tree[2]) and self.whole(tree[3])
        if kind == "call":
            return tree[1] == "random" or (
                tree[1] in ("min", "max", "clamp", "abs") and all(self.whole(t) for t in tree[2:])
            )
        return False

    def literal(self, value: Any) -> str:
        return _literal(value)

    def const(self, value: Any) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    # -- expressions ---------------------------------------------------------------------
    def expr(self, tree: Any) -> str:
        """`compile_expr`'s value, as a Python expression (operands in the same order)."""
        kind = tree[0]
        if kind in ("num", "str"):
            return _literal(tree[1])
        if kind == "var":
            return f"v[{int(tree[1])}]"
        if kind == "turn":
            return "st.turn"
        if kind == "visited":
            return f"st.visits[{int(tree[1])}]"
        if kind == "ended":
            return f"({_literal(tree[1])} in st.char_endings)"
        if kind == "not":
            return f"(not {self.expr(tree[1])})"
        if kind == "neg":
            return f"(-{self.expr(tree[1])})"
        if kind == "and":
            return f"({self.expr(tree[1])} and {self.expr(tree[2])})"
        if kind == "or":
            return f"({self.expr(tree[1])} or {self.expr(tree[2])})"
        if kind == "cmp":
            op = tree[1]
            if op not in _CMP_OPS:
                raise ValueError(f"unknown comparison {op!r}")
            return f"({self.expr(tree[2])} {op} {self.expr(tree[3])})"
        if kind == "bin":
            op, left, right = tree[1], tree[2], tree[3]
            a, b = self.expr(left), self.expr(right)
            if op == "+":
                return f"({a} + {b})"
            if op == "-":
                return f"({a} - {b})"
            if op == "*":
                if self.safe(tree):
                    return f"({a} * {b})"
                if (left[0] == "num") != (right[0] == "num"):
                    return f"_checked({a} * {b})"  # as expr._arithmetic
                return f"_mul({a}, {b})"
            if op == "/" and right[0] == "num" and right[1] and self.safe(left) and abs(right[1]) >= 1:
                return f"({a} / {b})"
            helper = {"/": "_div", "//": "_fdiv", "%": "_mod"}.get(op)
            if helper is None:
                raise ValueError(f"unknown operator {op!r}")
            return f"{helper}({a}, {b})"
        if kind == "call":
            return self.call(tree[1], tree[2:])
        raise ValueError(f"unknown expression node {kind!r}")

    def call(self, name: str, args: Sequence[Any]) -> str:
        if name == "chance":
            return f"(st.random() < {self.expr(args[0])})"
        parts = [self.expr(a) for a in args]
        if name == "random":
            return f"st.randint(_int({parts[0]}), _int({parts[1]}))"
        if name == "abs":
            return f"_abs({parts[0]})"
        if name == "clamp":
            x, lo, hi = parts
            return f"_max({lo}, _min({hi}, {x}))"  # lo, hi, then x: as the closure
        if name in ("min", "max"):
            if len(parts) == 1:
                return parts[0]
            return f"_{name}([{', '.join(parts)}])"
        raise ValueError(f"unknown function {name!r}")

    def test(self, tree: Any, draws: bool | None = None) -> str:
        """`compile_test`'s truth, as a Python expression, testing the parts of an `and`
        in the order compile_test does."""
        kind = tree[0]
        if kind == "cmp" and tree[2][0] == "var" and tree[3][0] in ("num", "str"):
            return self.expr(tree)
        if draws is None:
            draws = _draws(tree)
        if kind == "not":
            inner = tree[1]
            if inner[0] in ("var", "ended"):
                return self.expr(tree)
            return f"(not {self.test(inner, None if draws else False)})"
        if kind == "or":
            same = _same_var_equals(tree) if not draws else None
            if same is not None:
                return f"(v[{int(same[0])}] in {self.const(same[1])})"
            known = None if draws else False
            return f"({self.test(tree[1], known)} or {self.test(tree[2], known)})"
        if kind != "and":
            return self.expr(tree)
        parts = _flatten(tree, "and", [])
        if draws:
            return "(" + " and ".join(self.test(part, drawing) for part, drawing in draw_groups(parts)) + ")"
        first = [p for p in parts if _value_test(p) is not None]
        rest = [p for p in parts if _value_test(p) is None]
        return "(" + " and ".join(self.test(p, False) for p in [*first, *rest]) + ")"

    # -- effects -------------------------------------------------------------------------
    def effects(self, stmts: Sequence[Any], variables: Sequence[Variable], indent: str) -> None:
        """The statements, as a block of lines at `indent` (`pass` if they come to nothing)."""
        before = len(self.lines)
        for stmt in stmts:
            self.stmt(stmt, variables, indent)
        if len(self.lines) == before:
            self.lines.append(f"{indent}pass")

    def stmt(self, stmt: Any, variables: Sequence[Variable], indent: str) -> None:
        out = self.lines
        if stmt[0] == "if":
            out.append(f"{indent}if {self.test(stmt[1])}:")
            self.effects(stmt[2], variables, indent + "    ")
            if stmt[3]:
                out.append(f"{indent}else:")
                self.effects(stmt[3], variables, indent + "    ")
            return
        _, slot, op, tree, vtype = stmt
        slot = int(slot)
        var = variables[slot]
        if tree[0] in ("num", "str") and op == "=" and var.type != "int":
            const = bool(tree[1]) if var.type == "bool" else tree[1]
            if var.type == "enum" and const not in var.values:
                return
            out.append(f"{indent}v[{slot}] = {_literal(const)}")
            return
        if var.type == "bool":
            out.append(f"{indent}v[{slot}] = _bool({self.expr(tree)})")
            return
        if var.type == "enum":
            t = self.temp()
            out.append(f"{indent}{t} = {self.expr(tree)}")
            out.append(f"{indent}if {t} in {self.const(frozenset(var.values))}:")
            out.append(f"{indent}    v[{slot}] = {t}")
            return
        lo, hi = _literal(var.min), _literal(var.max)
        t = self.temp()
        if op in ("+=", "-=") and tree[0] == "num" and vtype != FLOAT:
            sign = "+" if op == "+=" else "-"  # a whole amount, as story._int_change takes it
            out.append(f"{indent}{t} = v[{slot}] {sign} {_literal(int(tree[1]))}")
        elif op == "=" and tree[0] == "num" and type(tree[1]) is int:
            x = max(var.min, min(var.max, tree[1]))
            out.append(f"{indent}v[{slot}] = {_literal(x)}")
            return
        else:
            out.append(f"{indent}{t} = {self.expr(tree)}")
            if op == "+=":
                out.append(f"{indent}{t} = v[{slot}] + {t}")
            elif op == "-=":
                out.append(f"{indent}{t} = v[{slot}] - {t}")
            elif op == "*=":
                out.append(f"{indent}{t} = _mul(v[{slot}], {t})")
            elif op != "=":
                raise ValueError(f"unknown assignment {op!r}")
            if not self.whole(tree):
                out.append(f"{indent}{t} = _int({t} // 1) if _isinstance({t}, _float) else _int({t})")
        out.append(f"{indent}v[{slot}] = {lo} if {t} < {lo} else {hi} if {t} > {hi} else {t}")

    # -- functions -----------------------------------------------------------------------
    def function(self, name: str, args: str = "st") -> Callable[..., Any]:
        """The function of the lines written, `_f(st)` (or with `args`). Its constants are
        the cells of a closure, and all generated functions share one small globals dict."""
        params = ", ".join(self.consts)
        body = "\n".join("    " + line for line in self.lines)
        src = f"def _make({params}):\n    def _f({args}):\n        v = st.v\n{body}\n    return _f\n"
        made: dict[str, Any] = {}
        exec(compile(src, f"<{name}>", "exec"), _GLOBALS, made)  # noqa: S102 - written above from checked IR
        fn: Callable[..., Any] = made["_make"](*self.consts.values())
        return fn


def _trivial_test(tree: Any) -> bool:
    """Conditions whose closure is already a single small function."""
    kind = tree[0]
    if kind == "cmp":
        return tree[2][0] == "var" and tree[3][0] in ("num", "str")
    if kind == "not":
        return tree[1][0] in ("var", "ended")
    return kind in ("var", "num", "str", "ended", "visited", "turn")


def condition_function(tree: Any, variables: Sequence[Variable] | None = None, name: str = "condition") -> Fn:
    """A condition as `expr.compile_test` makes it, as Python code where that is faster."""
    if _trivial_test(tree):
        return compile_test(tree)
    w = Writer(variables)
    w.lines.append(f"    return {w.test(tree)}")
    return w.function(name)


def value_function(tree: Any, variables: Sequence[Variable] | None = None, name: str = "expression") -> Fn:
    """An expression's value as `expr.compile_expr` makes it, as Python code where that is
    faster."""
    if tree[0] in ("num", "str", "var", "turn", "visited", "ended"):
        return compile_expr(tree)
    w = Writer(variables)
    w.lines.append(f"    return {w.expr(tree)}")
    return w.function(name)


def effects_function(
    stmts: Sequence[Any], variables: Sequence[Variable], name: str = "effects"
) -> Callable[[Any], None]:
    """Effect statements as `story.compile_effects` makes them, as one Python function."""
    w = Writer(variables)
    w.effects(stmts, variables, "    ")
    return w.function(name)
