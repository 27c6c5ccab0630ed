"""Hypothesis strategies shared by tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from smartcore.network import Network


@st.composite
def random_networks(draw, max_nodes: int, max_links: int, tie_costs: list[float],
                    max_cost: float) -> tuple[Network, np.ndarray]:
    """``(net, w)``: a random multigraph (self-loops, parallel links) of 1..max_nodes nodes, whose
    first 0..n nodes are zones, passable or not; ``w`` (length and free-flow time) mixes zero and
    repeated costs (``tie_costs``, for ties) with arbitrary reals in [0, max_cost]. External node
    ids equal dense indices and links keep their drawn order."""
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, max_links))
    tail = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    head = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    cost = st.one_of(st.sampled_from(tie_costs), st.floats(0, max_cost, allow_nan=False))
    w = np.array(draw(st.lists(cost, min_size=m, max_size=m)), dtype=np.float64)
    zones = draw(st.integers(0, n))
    passable = draw(st.booleans())
    net = Network.from_links(tail, head, node_ids=np.arange(n), zones=np.arange(zones),
                             zones_passable=passable, length=w, free_flow_time=w, capacity=1.0,
                             duplicates="keep")
    assert (net.node_ids == np.arange(n)).all()  # dense index == external id
    np.testing.assert_array_equal(net.link_tail, tail)
    np.testing.assert_array_equal(net.link_head, head)
    return net, w
