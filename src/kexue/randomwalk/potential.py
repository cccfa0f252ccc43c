"""Safe parsing of potentials V(x) typed by a user: a whitelist of operators, numbers, ``x`` and
elementary functions, compiled to a numpy function. The text is never passed to ``eval``.

>>> V = parse_potential("x**4 - 2*x^2 + 0.5*sin(x)")
>>> float(V(np.array([1.0]))[0])  # 1 - 2 + 0.5 sin 1
-0.5792645075960517
>>> try:
...     parse_potential("__import__('os')")
... except UsageError as e:
...     print(str(e)[-28:])
(found a call of __import__)
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import numpy as np

from kexue.errors import UsageError

FUNCS: dict[str, Callable] = {
    "abs": np.abs, "cos": np.cos, "cosh": np.cosh, "exp": np.exp, "log": np.log, "sin": np.sin,
    "sinh": np.sinh, "sqrt": np.sqrt, "tan": np.tan, "tanh": np.tanh,
}
CONSTS = {"pi": np.pi, "e": np.e}
BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
UNARY = {ast.USub: np.negative, ast.UAdd: np.positive}
MAX_LEN = 500


class Potential:
    """A parsed potential: call it on a numpy array of positions. ``text`` keeps the source."""

    def __init__(self, text: str, tree: ast.AST):
        self.text = text
        self._tree = tree

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            v = self._eval(self._tree, x)
        return np.broadcast_to(np.asarray(v, dtype=float), x.shape).copy()

    def _eval(self, node, x):
        if isinstance(node, ast.Expression):
            return self._eval(node.body, x)
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return x if node.id == "x" else np.float64(CONSTS[node.id])
        if isinstance(node, ast.BinOp):
            return BINOPS[type(node.op)](self._eval(node.left, x), self._eval(node.right, x))
        if isinstance(node, ast.UnaryOp):
            return UNARY[type(node.op)](self._eval(node.operand, x))
        if isinstance(node, ast.Call):
            return FUNCS[node.func.id](self._eval(node.args[0], x))
        raise AssertionError("unreachable: validated tree")

    def __repr__(self) -> str:
        return f"Potential({self.text!r})"


def _allowed() -> str:
    return f"only numbers, x, + - * / ** and the functions {', '.join(sorted(FUNCS))} are allowed"


def _validate(node, text: str) -> None:
    bad = None
    if isinstance(node, ast.Expression):
        return _validate(node.body, text)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            bad = f"the constant {node.value!r}"
    elif isinstance(node, ast.Name):
        if node.id != "x" and node.id not in CONSTS:
            bad = f"the name {node.id!r} (the variable is x)"
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in BINOPS:
            bad = f"the operator {type(node.op).__name__}"
        else:
            _validate(node.left, text)
            _validate(node.right, text)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in UNARY:
            bad = f"the operator {type(node.op).__name__}"
        else:
            _validate(node.operand, text)
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.dump(node.func)[:30]
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCS:
            bad = f"a call of {name}"
        elif len(node.args) != 1 or node.keywords:
            bad = f"{name} with {len(node.args)} arguments (it takes one)"
        else:
            _validate(node.args[0], text)
    else:
        bad = f"a {type(node).__name__} expression"
    if bad:
        raise UsageError(f"potential {text!r}: {_allowed()} (found {bad})")


def parse_potential(text: str) -> Potential:
    """Parse ``text`` (e.g. ``"x**4"``, ``"0.5*x^2"``, ``"(x^2-1)^2"``) into a :class:`Potential`.

    ``^`` means power. Raises :class:`UsageError` on anything outside the whitelist.
    """
    if not isinstance(text, str) or not text.strip():
        raise UsageError("the potential is empty; give an expression in x such as 'x**2/2'")
    if len(text) > MAX_LEN:
        raise UsageError(f"the potential is longer than {MAX_LEN} characters")
    src = text.strip().replace("^", "**")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise UsageError(f"potential {text!r} does not parse: {e.msg}") from None
    _validate(tree, text)
    V = Potential(text, tree)
    probe = V(np.linspace(-1, 1, 5))
    if probe.shape != (5,):
        raise UsageError(f"potential {text!r} does not give one number per x")
    return V


def as_potential(V) -> Callable:
    """Accept a text (parsed safely) or a callable."""
    if isinstance(V, str):
        return parse_potential(V)
    if callable(V):
        return V
    raise UsageError(f"a potential must be a text or a function, got {type(V).__name__}")
