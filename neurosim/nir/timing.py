"""When a spike arrives: the graph's discrete reading against the engine's latency.

A NIR graph read in steps of ``dt`` (as snnTorch and nirtorch run it): each
step, the nodes are evaluated source to target, so a spike reaches the next
neuron node *in the step it is emitted* (lag 0); a ``Delay`` node adds
``round(tau / dt)`` steps; an edge that closes a cycle (a *back edge* of the
depth-first walk below) reads its source's output of the previous step
(lag 1), as snnTorch's ``RLeaky`` and neurosim's trained recurrent layers do.

The engine cannot deliver that fast.  A spike emitted in step ``n`` through a
projection of delay ``d >= 1`` steps reaches the target's synaptic state in
step ``n + d`` after that step's update, so it acts on the membrane in step
``n + d + 1``: at least two steps later.  Feed-forward paths absorb the
difference by *pipelining*: population ``X`` runs ``s[X]`` steps behind the
graph (its spike in step ``n`` is the graph's spike in step ``n - s[X]``),
and a link of lag ``L`` from ``A`` to ``B`` becomes a projection of delay
``d = L - 1 + s[B] - s[A]``.  The shifts are the least ``s >= 0`` with every
``d >= 1``; a cycle whose lags add up to less than two steps per link has
none, and is refused.

The walk is canonical (sources first, then every node in name order;
successors in name order), so the exporter, which writes each projection's
delay as the lag that gives it back, and the importer agree on which edges
are back edges whatever order a file lists its nodes in.
"""

from __future__ import annotations

from collections.abc import Iterable

from neurosim.errors import ConfigError

#: Steps between a spike and the first membrane update it reaches, at the
#: shortest projection delay (one step).
ENGINE_LATENCY = 2


def back_edges(nodes: Iterable[str], links: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The links ``(a, b)`` that close a cycle in the canonical depth-first walk."""
    nodes = sorted(set(nodes))
    links = set(links)
    successors = {n: sorted(b for a, b in links if a == n) for n in nodes}
    fed = {b for _, b in links}
    roots = [n for n in nodes if n not in fed] + [n for n in nodes if n in fed]
    on_stack, done, back = set(), set(), set()
    for root in roots:
        if root in done:
            continue
        on_stack.add(root)
        stack = [(root, iter(successors[root]))]
        while stack:
            node, rest = stack[-1]
            nxt = next(rest, None)
            if nxt is None:
                stack.pop()
                on_stack.discard(node)
                done.add(node)
            elif nxt in on_stack:
                back.add((node, nxt))
            elif nxt not in done:
                on_stack.add(nxt)
                stack.append((nxt, iter(successors[nxt])))
    return back


def pipeline_shifts(nodes: Iterable[str], lags: Iterable[tuple[str, str, int]]) -> dict[str, int]:
    """The least shifts ``s >= 0`` with ``L - 1 + s[b] - s[a] >= 1`` for every ``(a, b, L)``.

    Bellman-Ford on the longest-path form ``s[b] >= s[a] + 2 - L``.  A cycle
    that keeps raising the shifts has too little lag for the engine: one
    :class:`ConfigError` names it and its lag.
    """
    shift = {n: 0 for n in nodes}
    need = [(a, b, ENGINE_LATENCY - lag) for a, b, lag in lags]
    came_from: dict[str, str] = {}
    for _ in range(len(shift) + 1):
        changed = None
        for a, b, gap in need:
            if shift[a] + gap > shift[b]:
                shift[b] = shift[a] + gap
                came_from[b] = a
                changed = b
        if changed is None:
            return shift
    raise ConfigError(_cycle_message(changed, came_from, need))


def _cycle_message(start: str, came_from: dict[str, str], need) -> str:
    node = start
    for _ in range(len(came_from) + 1):  # walk back until inside the cycle
        node = came_from[node]
    cycle = [node]
    while came_from[cycle[-1]] != node:
        cycle.append(came_from[cycle[-1]])
    cycle = [node] + cycle[:0:-1]
    pairs = list(zip(cycle, cycle[1:] + cycle[:1]))
    lag = sum(ENGINE_LATENCY - max(g for a, b, g in need if (a, b) == pair) for pair in pairs)
    path = " -> ".join(cycle + cycle[:1])
    return (f"the cycle {path} has {lag} step(s) of lag in the graph, but the engine needs at "
            f"least {ENGINE_LATENCY} per link (a spike acts on its target the step after its "
            f"projection's delay of at least one step), so {len(pairs) * ENGINE_LATENCY} here: "
            "it cannot be run exactly; add Delay nodes to the cycle")
