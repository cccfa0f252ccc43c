"""Reassemble shredded pages (strips, cross-cut, two-sided) automatically — article 06, CUMCM 2013 B.

>>> from kexue.unshred import text_page, shred, solve, score
>>> s = shred(text_page(720, 1000, seed=4), 4, 5, seed=0)
>>> score(s.true_grid, solve(s.pieces).grid)["perfect"]
True
"""

from .pieces import Pieces, infer_layout, load_pieces
from .score import read_grid, score
from .solver import Constraint, Solution, solve
from .synth import shred, text_page, write_shredded

__all__ = ["Constraint", "Pieces", "Solution", "infer_layout", "load_pieces", "read_grid", "score", "shred",
           "solve", "text_page", "write_shredded"]
