"""Random walks on lattices and path integrals (kexue.fm articles 01 and 02).

* :mod:`.lattice` — walks (sc in any d, bcc, fcc, custom biased step sets);
* :mod:`.law` — exact n-step laws by the Fourier formula (FFT), exact combinatorics, Monte Carlo,
  the Gaussian (continuum) limit, first-return probabilities;
* :mod:`.green` — Green functions and Polya return probabilities to any number of digits;
* :mod:`.pathint` — propagators, Feynman-Kac, partition functions, ground states, least action;
* :mod:`.potential` — safe parsing of user potentials.

>>> from kexue.randomwalk import polya
>>> polya("sc", 3, digits=12)["return_probability"]
'0.340537329550'
"""

from .green import fourier_green, polya, sc_green
from .lattice import Walk, bcc, custom, fcc, named, sc
from .law import exact_law, n_step_law, return_series, simulate
from .pathint import feynman_kac, ground_state, least_action_path, mehler_kernel, sliced_propagator
from .potential import parse_potential

__all__ = ["Walk", "bcc", "custom", "exact_law", "fcc", "feynman_kac", "fourier_green", "ground_state",
           "least_action_path", "mehler_kernel", "n_step_law", "named", "parse_potential", "polya", "return_series",
           "sc", "sc_green", "simulate", "sliced_propagator"]
