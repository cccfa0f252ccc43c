"""Closed forms a_n = floor(k^(2^n)) for quadratic recurrences a_{n+1} = a_n^2 + b a_n + c (article 04).

k = lim a_n^(2^-n) to any precision with a rigorous tail bound, the integer rule (floor, nearest,
ceiling, with the b/2 shift) and the n from which it holds, checked against the exact terms,
recognition of algebraic k, and clear explanations when the sequence does not grow.

>>> from kexue.recurrence import Quadratic, k_decimal
>>> k_decimal(Quadratic(1, 0, 1), 21)
'1.50283680104975649975'
"""

from .core import MAX_DIGITS, NotGrowingError, Quadratic, growth, k_ball, k_decimal, parse_number

__all__ = ["MAX_DIGITS", "NotGrowingError", "Quadratic", "growth", "k_ball", "k_decimal", "parse_number"]
