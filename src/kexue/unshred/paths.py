"""Shortest Hamiltonian paths (asymmetric), with a cost for the first and the last node.

Orders a row of pieces or the rows of a page: minimise
``start[p0] + sum cost[p_i, p_i+1] + end[p_last]``. Exact (Held-Karp dynamic programming) up to
13 nodes, otherwise greedy starts improved by Or-opt moves and swaps (no segment is reversed,
so asymmetric costs are respected), and LKH's path when elkai is installed and it is shorter.
"""

from __future__ import annotations

import numpy as np

EXACT_MAX = 13
LKH_PATHS = True  # beyond EXACT_MAX nodes, also ask LKH (elkai) when it is installed


def path_cost(order, cost: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Total cost of visiting ``order``.

    >>> c = np.array([[0, 1, 5], [5, 0, 1], [1, 5, 0]], float)
    >>> path_cost([0, 1, 2], c, np.zeros(3), np.zeros(3))
    2.0
    """
    o = list(order)
    return float(start[o[0]] + sum(cost[a, b] for a, b in zip(o[:-1], o[1:], strict=True)) + end[o[-1]])


def held_karp(cost: np.ndarray, start: np.ndarray, end: np.ndarray, groups: int | None = None) -> list[int]:
    """Exact shortest Hamiltonian path by dynamic programming over subsets (n <= ~15).

    With ``groups``, the path visits exactly one node of each group instead (node v is in group
    ``v % groups``; exact for groups <= ~13), e.g. each row of a page in one of two orientations.

    >>> c = np.array([[0, 1, 5], [5, 0, 1], [1, 5, 0]], float)
    >>> held_karp(c, np.array([0, 1, 3.0]), np.zeros(3))
    [0, 1, 2]
    """
    n = len(start)
    groups = n if groups is None else groups
    if n == 1:
        return [0]
    grp = np.arange(n) % groups
    cost = np.where(np.isfinite(cost), cost, 1e12)
    size = 1 << groups
    dp = np.full((size, n), np.inf)
    par = np.full((size, n), -1, dtype=np.int64)
    for j in range(n):
        dp[1 << grp[j], j] = start[j]
    masks_by_pop = sorted(range(1, size), key=lambda m: bin(m).count("1"))
    for m in masks_by_pop:
        row = dp[m]
        if not np.isfinite(row).any():
            continue
        # extend every last node j in m to every node k whose group is not in m
        cand = row[:, None] + cost  # (j, k)
        best_j = np.argmin(cand, axis=0)
        best = cand[best_j, np.arange(n)]
        for k in range(n):
            if m >> grp[k] & 1:
                continue
            m2 = m | (1 << grp[k])
            if best[k] < dp[m2, k]:
                dp[m2, k] = best[k]
                par[m2, k] = best_j[k]
    full = size - 1
    last = int(np.argmin(dp[full] + end))
    order, m = [], full
    while last >= 0:
        order.append(last)
        prev = int(par[m, last])
        m &= ~(1 << grp[last])
        last = prev
    return order[::-1]


def improve_path(order, cost: np.ndarray, start: np.ndarray, end: np.ndarray, max_seg: int = 3) -> list[int]:
    """Local search on a path: move segments of up to ``max_seg`` nodes elsewhere (Or-opt,
    vectorised over insertion points) and swap pairs of nodes, while the total cost drops.

    >>> c = np.array([[0, 1, 5, 5], [5, 0, 1, 5], [5, 5, 0, 1], [1, 5, 5, 0]], float)
    >>> improve_path([0, 2, 1, 3], c, np.zeros(4), np.zeros(4))
    [0, 1, 2, 3]
    """
    o = [int(k) for k in order]
    n = len(o)
    if n < 2:
        return o
    # extended matrix: node n is the virtual start, n + 1 the virtual end
    ext = np.full((n + 2, n + 2), 1e12)
    ext[:n, :n] = np.where(np.isfinite(cost), cost, 1e12)
    ext[n, :n] = start
    ext[:n, n + 1] = end
    S, E = n, n + 1
    for _ in range(100 * n):
        p = np.array([S] + o + [E])
        moved = False
        for seg in range(1, min(max_seg, n - 1) + 1):
            # every segment p[i:i+seg] (i = 1..n-seg+1) put between rest[t] and rest[t+1] of the
            # path without it, all at once; the first segment (in order) that can move anywhere
            # cheaper moves to its best place
            i = np.arange(1, n - seg + 2)[:, None]
            t = np.arange(n + 1 - seg)[None, :]
            f, l = p[i], p[i + seg - 1]
            gain = ext[p[i - 1], f] + ext[l, p[i + seg]] - ext[p[i - 1], p[i + seg]]
            u = np.where(t < i, p[t], p[np.minimum(t + seg, n + 1)])
            v = np.where(t + 1 < i, p[t + 1], p[np.minimum(t + 1 + seg, n + 1)])
            delta = ext[u, f] + ext[l, v] - ext[u, v] - gain
            delta[np.arange(len(delta)), i[:, 0] - 1] = np.inf  # the same place
            ok = np.flatnonzero(delta.min(1) < -1e-9)
            if ok.size:
                a = int(ok[0])
                k = int(np.argmin(delta[a]))
                i0 = a + 1
                rest = p[:i0].tolist() + p[i0 + seg:].tolist()
                p = np.array(rest[:k + 1] + p[i0:i0 + seg].tolist() + rest[k + 1:])
                moved = True
                break
        if not moved and n <= 60:
            # swap two nodes that are not neighbours (the first pair, in order, that gains)
            i, j = np.triu_indices(n + 2, 2)
            sel = (i >= 1) & (j <= n)
            i, j = i[sel], j[sel]
            new = (ext[p[i - 1], p[j]] + ext[p[j], p[i + 1]]) + (ext[p[j - 1], p[i]] + ext[p[i], p[j + 1]])
            old = (ext[p[i - 1], p[i]] + ext[p[i], p[i + 1]]) + (ext[p[j - 1], p[j]] + ext[p[j], p[j + 1]])
            ok = np.flatnonzero(new < old - 1e-9)
            if ok.size:
                a, b = int(i[ok[0]]), int(j[ok[0]])
                p[a], p[b] = p[b], p[a]
                moved = True
        o = p[1:-1].tolist()
        if not moved:
            break
    return o


def greedy_path(cost: np.ndarray, start: np.ndarray, first: int) -> list[int]:
    """Nearest-neighbour path from node ``first``.

    >>> c = np.array([[0, 1, 5], [5, 0, 1], [1, 5, 0]], float)
    >>> greedy_path(c, np.zeros(3), 0)
    [0, 1, 2]
    """
    n = len(start)
    o, used = [first], np.zeros(n, bool)
    used[first] = True
    for _ in range(n - 1):
        row = np.where(used, np.inf, cost[o[-1]])
        k = int(np.argmin(row))
        o.append(k)
        used[k] = True
    return o


def shortest_path(cost: np.ndarray, start: np.ndarray | None = None, end: np.ndarray | None = None,
                  restarts: int = 4) -> list[int]:
    """Shortest Hamiltonian path through all nodes of the (asymmetric) ``cost`` matrix.

    >>> rng = np.random.default_rng(1); perm = rng.permutation(20)
    >>> c = np.full((20, 20), 10.0)
    >>> for a, b in zip(perm[:-1], perm[1:]): c[a, b] = 1.0
    >>> shortest_path(c) == perm.tolist()
    True
    """
    n = cost.shape[0]
    start = np.zeros(n) if start is None else np.asarray(start, float)
    end = np.zeros(n) if end is None else np.asarray(end, float)
    if n <= EXACT_MAX:
        return held_karp(cost, start, end)
    c = np.where(np.isfinite(cost), cost, 1e12)
    firsts = list(np.argsort(start)[:restarts])
    # also start from nodes with no good predecessor
    pred = np.min(c + np.diag(np.full(n, np.inf)), axis=0)
    firsts += [int(k) for k in np.argsort(-pred)[:restarts] if k not in firsts]
    best, best_cost = None, np.inf
    for f in firsts:
        o = improve_path(greedy_path(c, start, int(f)), c, start, end)
        pc = path_cost(o, c, start, end)
        if pc < best_cost:
            best, best_cost = o, pc
    if LKH_PATHS and _elkai() is not None:  # LKH's path, where it is shorter than the local search's
        o = split_paths(cost, 1, start, end, runs=1)
        if len(o) == 1 and len(o[0]) == n:
            pc = path_cost(o[0], c, start, end)
            if pc < best_cost - 1e-9:
                best, best_cost = o[0], pc
    return best


def _elkai():
    try:
        import elkai
    except ImportError:  # optional: LKH through elkai; our own local search otherwise
        return None
    return elkai


def _lkh(ek, m: np.ndarray, runs: int, seed: int = 1, quick: bool = False) -> list[int]:
    """An asymmetric tour by LKH through elkai's solver, with a trial budget that keeps large
    instances (1,000 nodes) to seconds, or with ``quick`` one trial after a short ascent (20
    steps a period: its default period made 0.7 s of a 0.07 s tour on 228 nodes of tied
    costs); falls back to elkai's public call."""
    N = len(m)
    trials = 1 if quick else N if N <= 300 else max(100, 30000 // N)
    params = (f"RUNS = {runs}\nPROBLEM_FILE = :stdin:\nMAX_TRIALS = {trials}\n"
              f"MAX_CANDIDATES = {5 if N <= 300 else 4}\nSEED = {seed}\n"
              + ("INITIAL_PERIOD = 20\n" if quick else ""))
    problem = (f"TYPE : ATSP\nDIMENSION : {N}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
               "EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n"
               + "\n".join(" ".join(map(str, row)) for row in m.tolist()) + "\n")
    try:
        from elkai import _elkai

        return [int(i) - 1 for i in _elkai.solve_problem(params, problem)]
    except Exception:  # pragma: no cover - other elkai versions
        return ek.DistanceMatrix(m.tolist()).solve_tsp(runs=runs)[:-1]


def split_paths(cost: np.ndarray, k: int, start: np.ndarray, end: np.ndarray, runs: int = 4,
                seed: int = 0, quick: bool = False) -> list[list[int]]:
    """Cover all nodes by ``k`` paths minimising the sum of their costs, each path paying
    ``start`` for its first node and ``end`` for its last: an asymmetric travelling-salesman tour
    through the nodes and ``k`` separator nodes. Solved by LKH (``elkai``; ``quick``: one short
    trial, for costs with many exact ties such as blank seams, which slow LKH down) when
    installed, else by Or-opt local search.

    >>> c = np.full((6, 6), 9.0); c[0, 1] = c[1, 2] = c[3, 4] = c[4, 5] = 1.0
    >>> sorted(split_paths(c, 2, np.zeros(6), np.zeros(6)))
    [[0, 1, 2], [3, 4, 5]]
    """
    n = cost.shape[0]
    N = n + k
    cost = np.asarray(cost, float)
    fin = cost[np.isfinite(cost)]
    unit = max(float(np.median(np.abs(fin))) if fin.size else 1.0, 1e-6)
    big = 200.0 * unit  # "never": forbidden pairs, separator to separator
    c = np.full((N, N), big)
    c[:n, :n] = np.clip(np.where(np.isfinite(cost), cost, big), -big, big)
    np.fill_diagonal(c, big)
    c[:n, n:] = np.clip(np.asarray(end, float), -big, big)[:, None]
    c[n:, :n] = np.clip(np.asarray(start, float), -big, big)[None, :]
    c = c - c.min()
    ek = _elkai()
    if ek is not None and N >= 4:
        m = np.rint(c * (1000.0 / unit)).astype(np.int64)
        tour = _lkh(ek, m, runs, seed + 1, quick)
    else:
        st = np.full(N, big)
        st[n] = 0.0
        order = greedy_path(c, st, n)
        tour = improve_path(order, c, st, c[:, n])
    i = tour.index(n)
    tour = tour[i:] + tour[:i]
    paths, cur = [], []
    for v in tour[1:] + [n]:
        if v >= n:
            if cur:
                paths.append(cur)
            cur = []
        else:
            cur.append(int(v))
    return paths
