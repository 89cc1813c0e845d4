"""Conditions, effects and text as Python code: the fast tier of the compiler.

`expr.compile_test`, `story.compile_effects` and `story.compile_text` make closures, which
are quick to make: a node compiled on demand, the first time a game reaches it, pays little.
A story played many times in one process (`Story.compile_all`) is worth more: there, each
condition, list of effects and text renderer becomes one small Python function, compiled by
Python itself, which runs it without a call per part.

The functions are built as Python syntax trees (the `ast` module), node by node, from checked
IR trees (see `expr.parse`), never as source text: a variable is a list index, a number or a
string from the story is a constant node, operators come from fixed tables, and the only
names are the state, its values, the function's own constants and the helpers in `_GLOBALS`
(no builtins). Nothing from a story file can become code. What the functions do is exactly
what the closures do, in the same order (so random draws and errors come the same);
tests/engine/test_pycode.py compares both on random expressions, effects and text.
"""

from __future__ import annotations

import ast
import math
import sys
import types
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

# What building or compiling the code of a tree can raise: a constant with no literal, or
# nesting deeper than Python's compiler takes. The closures do the same job there.
CANNOT_WRITE = (ValueError, SyntaxError, RecursionError, MemoryError)

# Half the limit on a calculation (expr.MAX_NUMBER): well inside it, even after rounding.
SAFE = MAX_NUMBER // 2

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


def literal(value: Any) -> ast.Constant:
    """A constant of the story (a number, true or false, a string) as a syntax tree node."""
    t = type(value)
    if t is bool or t is int or t is str or (t is float and math.isfinite(value)):
        return ast.Constant(value=value)
    raise ValueError(f"no literal for {value!r}")


def load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def store(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Store())


def attr(value: ast.expr, name: str) -> ast.Attribute:
    return ast.Attribute(value=value, attr=name, ctx=ast.Load())


def item(value: ast.expr, index: ast.expr | int) -> ast.Subscript:
    key = ast.Constant(value=int(index)) if isinstance(index, int) else index
    return ast.Subscript(value=value, slice=key, ctx=ast.Load())


def call(fn: ast.expr | str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=load(fn) if isinstance(fn, str) else fn, args=list(args), keywords=[])


def do(value: ast.expr) -> ast.Expr:
    """An expression run for what it does (a call)."""
    return ast.Expr(value=value)


def assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[store(target)], value=value)


def when(test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt] | None = None) -> ast.If:
    return ast.If(test=test, body=body or [ast.Pass()], orelse=orelse or [])


def _slot(index: Any) -> ast.Subscript:
    return item(load("v"), int(index))


def _set_slot(index: Any, value: ast.expr) -> ast.Assign:
    target = ast.Subscript(value=load("v"), slice=ast.Constant(value=int(index)), ctx=ast.Store())
    return ast.Assign(targets=[target], value=value)


def _both(kind: type[ast.boolop], values: list[ast.expr]) -> ast.expr:
    return values[0] if len(values) == 1 else ast.BoolOp(op=kind(), values=values)


_COMPARE: dict[str, type[ast.cmpop]] = {
    "==": ast.Eq,
    "!=": ast.NotEq,
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
}


def _compare(left: ast.expr, op: type[ast.cmpop], right: ast.expr) -> ast.Compare:
    return ast.Compare(left=left, ops=[op()], comparators=[right])


def _binary(left: ast.expr, op: type[ast.operator], right: ast.expr) -> ast.BinOp:
    return ast.BinOp(left=left, op=op(), right=right)


def _clamped(t: str, lo: Any, hi: Any) -> ast.IfExp:
    """`lo if t < lo else hi if t > hi else t`, as the closures clamp."""
    return ast.IfExp(
        test=_compare(load(t), ast.Lt, literal(lo)),
        body=literal(lo),
        orelse=ast.IfExp(test=_compare(load(t), ast.Gt, literal(hi)), body=literal(hi), orelse=load(t)),
    )


def _function_def(name: str, params: Sequence[str], body: list[ast.stmt]) -> ast.FunctionDef:
    fields: dict[str, Any] = {
        "name": name,
        "args": ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=p) for p in params],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        ),
        "body": body,
        "decorator_list": [],
        "returns": None,
    }
    if sys.version_info >= (3, 12):
        fields["type_params"] = []
    return ast.FunctionDef(**fields)


class Writer:
    """Builds one function's syntax tree; values it needs beyond the helpers (sets, tables,
    closures) become its constants (`const`)."""

    def __init__(self, variables: Sequence[Variable] | None = None) -> None:
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

    def const(self, value: Any) -> ast.Name:
        """A value the function reads (one of its closure's cells)."""
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return load(name)

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    # -- expressions ---------------------------------------------------------------------
    def expr(self, tree: Any) -> ast.expr:
        """`compile_expr`'s value (operands in the same order)."""
        kind = tree[0]
        if kind in ("num", "str"):
            return literal(tree[1])
        if kind == "var":
            return _slot(tree[1])
        if kind == "turn":
            return attr(load("st"), "turn")
        if kind == "visited":
            return item(attr(load("st"), "visits"), int(tree[1]))
        if kind == "ended":
            return _compare(literal(tree[1]), ast.In, attr(load("st"), "char_endings"))
        if kind == "not":
            return ast.UnaryOp(op=ast.Not(), operand=self.expr(tree[1]))
        if kind == "neg":
            return ast.UnaryOp(op=ast.USub(), operand=self.expr(tree[1]))
        if kind == "and":
            return ast.BoolOp(op=ast.And(), values=[self.expr(tree[1]), self.expr(tree[2])])
        if kind == "or":
            return ast.BoolOp(op=ast.Or(), values=[self.expr(tree[1]), self.expr(tree[2])])
        if kind == "cmp":
            op = _COMPARE.get(tree[1])
            if op is None:
                raise ValueError(f"unknown comparison {tree[1]!r}")
            return _compare(self.expr(tree[2]), op, self.expr(tree[3]))
        if kind == "bin":
            op, left, right = tree[1], tree[2], tree[3]
            a, b = self.expr(left), self.expr(right)
            if op == "+":
                return _binary(a, ast.Add, b)
            if op == "-":
                return _binary(a, ast.Sub, b)
            if op == "*":
                if self.safe(tree):
                    return _binary(a, ast.Mult, b)
                if (left[0] == "num") != (right[0] == "num"):
                    return call("_checked", _binary(a, ast.Mult, b))  # as expr._arithmetic
                return call("_mul", a, b)
            if op == "/" and right[0] == "num" and right[1] and self.safe(left) and abs(right[1]) >= 1:
                return _binary(a, ast.Div, b)
            helper = {"/": "_div", "//": "_fdiv", "%": "_mod"}.get(op)
            if helper is None:
                raise ValueError(f"unknown operator {op!r}")
            return call(helper, a, b)
        if kind == "call":
            return self.builtin(tree[1], tree[2:])
        raise ValueError(f"unknown expression node {kind!r}")

    def builtin(self, name: str, args: Sequence[Any]) -> ast.expr:
        """A call of one of the expression language's functions (expr.FUNCTIONS)."""
        if name == "chance":
            return _compare(call(attr(load("st"), "random")), ast.Lt, self.expr(args[0]))
        parts = [self.expr(a) for a in args]
        if name == "random":
            return call(attr(load("st"), "randint"), call("_int", parts[0]), call("_int", parts[1]))
        if name == "abs":
            return call("_abs", parts[0])
        if name == "clamp":
            x, lo, hi = parts
            return call("_max", lo, call("_min", hi, x))  # lo, hi, then x: as the closure
        if name in ("min", "max"):
            if len(parts) == 1:
                return parts[0]
            return call(f"_{name}", ast.List(elts=parts, ctx=ast.Load()))
        raise ValueError(f"unknown function {name!r}")

    def test(self, tree: Any, draws: bool | None = None) -> ast.expr:
        """`compile_test`'s truth, testing the parts of an `and` in the order compile_test
        does."""
        kind = tree[0]
        if kind == "cmp" and tree[2][0] == "var" and tree[3][0] in ("num", "str"):
            return self.expr(tree)
        if draws is None:
            draws = _draws(tree)
        if kind == "not":
            inner = tree[1]
            if inner[0] in ("var", "ended"):
                return self.expr(tree)
            return ast.UnaryOp(op=ast.Not(), operand=self.test(inner, None if draws else False))
        if kind == "or":
            same = _same_var_equals(tree) if not draws else None
            if same is not None:
                return _compare(_slot(same[0]), ast.In, self.const(same[1]))
            known = None if draws else False
            return ast.BoolOp(op=ast.Or(), values=[self.test(tree[1], known), self.test(tree[2], known)])
        if kind != "and":
            return self.expr(tree)
        parts = _flatten(tree, "and", [])
        if draws:
            return _both(ast.And, [self.test(part, drawing) for part, drawing in draw_groups(parts)])
        first = [p for p in parts if _value_test(p) is not None]
        rest = [p for p in parts if _value_test(p) is None]
        return _both(ast.And, [self.test(p, False) for p in [*first, *rest]])

    # -- effects -------------------------------------------------------------------------
    def effects(self, stmts: Sequence[Any]) -> list[ast.stmt]:
        """The statements, as a block (`pass` if they come to nothing)."""
        block = [s for stmt in stmts for s in self.stmt(stmt)]
        return block or [ast.Pass()]

    def stmt(self, stmt: Any) -> list[ast.stmt]:
        if stmt[0] == "if":
            return [when(self.test(stmt[1]), self.effects(stmt[2]), self.effects(stmt[3]) if stmt[3] else [])]
        if self.variables is None:
            raise ValueError("effects need the story's variables")
        _, slot, op, tree, vtype = stmt
        slot = int(slot)
        var = self.variables[slot]
        if tree[0] in ("num", "str") and op == "=" and var.type != "int":
            const = bool(tree[1]) if var.type == "bool" else tree[1]
            if var.type == "enum" and const not in var.values:
                return []
            return [_set_slot(slot, literal(const))]
        if var.type == "bool":
            return [_set_slot(slot, call("_bool", self.expr(tree)))]
        t = self.temp()
        if var.type == "enum":
            allowed = self.const(frozenset(var.values))
            return [
                assign(t, self.expr(tree)),
                when(_compare(load(t), ast.In, allowed), [_set_slot(slot, load(t))]),
            ]
        if op in ("+=", "-=") and tree[0] == "num" and vtype != FLOAT:
            # A whole amount, as story._int_change takes it.
            sign = ast.Add if op == "+=" else ast.Sub
            out: list[ast.stmt] = [assign(t, _binary(_slot(slot), sign, literal(int(tree[1]))))]
        elif op == "=" and tree[0] == "num" and type(tree[1]) is int:
            return [_set_slot(slot, literal(max(var.min, min(var.max, tree[1]))))]
        else:
            out = [assign(t, self.expr(tree))]
            if op == "+=":
                out.append(assign(t, _binary(_slot(slot), ast.Add, load(t))))
            elif op == "-=":
                out.append(assign(t, _binary(_slot(slot), ast.Sub, load(t))))
            elif op == "*=":
                out.append(assign(t, call("_mul", _slot(slot), load(t))))
            elif op != "=":
                raise ValueError(f"unknown assignment {op!r}")
            if not self.whole(tree):
                # `int(t // 1) if isinstance(t, float) else int(t)`
                whole = ast.IfExp(
                    test=call("_isinstance", load(t), load("_float")),
                    body=call("_int", _binary(load(t), ast.FloorDiv, literal(1))),
                    orelse=call("_int", load(t)),
                )
                out.append(assign(t, whole))
        out.append(_set_slot(slot, _clamped(t, var.min, var.max)))
        return out

    # -- functions -----------------------------------------------------------------------
    def function(
        self, name: str, body: list[ast.stmt], params: Sequence[str] = ("st",)
    ) -> Callable[..., Any]:
        """The function `_f(st)` (or with `params`) of these statements, with `v` bound to
        the state's values. Its constants are the cells of a closure, and every function made
        here shares one small globals dict. Made from the tree with `types.FunctionType`:
        nothing is run but the function itself, when it is called."""
        inner = _function_def("_f", params, [assign("v", attr(load("st"), "v")), *body])
        outer = _function_def("_make", list(self.consts), [inner, ast.Return(value=load("_f"))])
        module = ast.fix_missing_locations(ast.Module(body=[outer], type_ignores=[]))
        code = compile(module, f"<{name}>", "exec")
        make_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        make = types.FunctionType(make_code, _GLOBALS, "_make")
        fn: Callable[..., Any] = make(*self.consts.values())
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
    return w.function(name, [ast.Return(value=w.test(tree))])


def value_function(tree: Any, variables: Sequence[Variable] | None = None, name: str = "expression") -> Fn:
    """An expression's value as `expr.compile_expr` makes it, as Python code where that is
    faster."""
    if tree[0] in ("num", "str", "var", "turn", "visited", "ended"):
        return compile_expr(tree)
    w = Writer(variables)
    return w.function(name, [ast.Return(value=w.expr(tree))])


def effects_function(
    stmts: Sequence[Any], variables: Sequence[Variable], name: str = "effects"
) -> Callable[[Any], None]:
    """Effect statements as `story.compile_effects` makes them, as one Python function."""
    w = Writer(variables)
    return w.function(name, w.effects(stmts))
