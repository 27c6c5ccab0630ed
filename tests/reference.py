"""Independent reference computations shared by tests (scipy, not smartcore's kernel)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra


def scipy_relative_gap(net, demand, flows, costs) -> float:
    """(TSTC - SPTC) / SPTC with shortest paths from scipy on ``costs``.

    Zones (dense nodes below ``net.first_thru_node``) are not passed through: each origin's search
    keeps only its own outgoing zone links. Parallel links keep their cheapest member (scipy would
    sum duplicates). Intrazonal demand costs 0.
    """
    z = net.num_zones
    blocked = net.link_tail < net.first_thru_node
    sptc = 0.0
    for o in range(z):
        keep = np.flatnonzero(~blocked | (net.link_tail == o))
        order = keep[np.lexsort((costs[keep], net.link_head[keep], net.link_tail[keep]))]
        first = np.r_[True, (net.link_tail[order][1:] != net.link_tail[order][:-1])
                      | (net.link_head[order][1:] != net.link_head[order][:-1])]
        ks = order[first]
        g = sp.csr_matrix((costs[ks] + 1e-300, (net.link_tail[ks], net.link_head[ks])),
                          shape=(net.num_nodes, net.num_nodes))
        dist = dijkstra(g, indices=o)[:z]
        row = np.array(demand.matrix[o], dtype=float)
        row[o] = 0
        sptc += float((row * dist).sum())
    tstc = float((np.asarray(flows) * np.asarray(costs)).sum())
    return (tstc - sptc) / sptc
