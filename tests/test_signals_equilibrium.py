"""Signal-aware assignment (iterative optimisation and assignment), checked piece by piece against
outside references: HCM 2000 delay formulas written out here, and scipy shortest paths for the
Wardrop condition at the final costs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import scipy_relative_gap

from smartcore import InputError, datasets
from smartcore.scenario import run_default_city
from smartcore.signals.equilibrium import approach_delays, signal_aware_assignment


@pytest.fixture(scope="module")
def base():
    return run_default_city(zones=15, signals=False)


@pytest.fixture(scope="module")
def result(base):
    return signal_aware_assignment(base.network, base.demand, timing="webster", max_iterations=8,
                                   tolerance=1e-9)


def hcm_delay(cycle, g, v, s, lanes, T=0.25, k=0.5, upstream_i=1.0):
    """HCM 2000 Eq. 16-9/16-10/16-11 with PF = 1 and no initial queue."""
    c = s * g / cycle  # capacity of the lane group (s is its total saturation flow)
    X = v / c
    d1 = 0.5 * cycle * (1 - g / cycle) ** 2 / (1 - min(1.0, X) * g / cycle)
    d2 = 900 * T * ((X - 1) + math.sqrt((X - 1) ** 2 + 8 * k * upstream_i * X / (c * T)))
    return d1 + d2


def test_approach_delay_matches_hcm_formulas(result):
    plan = result.plan
    delay, _ = approach_delays(plan, result.assignment.network.num_links)
    from smartcore.signals.hcm import evaluate

    ev = evaluate(plan)
    g_eff = np.asarray(ev.groups["eff_green_s"])
    checked = 0
    k = 0
    for it in plan:
        for ap in it.approaches:
            ds, vs = [], []
            for grp in ap.lane_groups:
                if grp.arrival_type == 3 and not grp.initial_queue_veh:
                    ds.append(hcm_delay(it.cycle_s, g_eff[k], grp.flow_vph, grp.saturation_flow_vph,
                                        grp.lanes))
                else:
                    ds.append(float("nan"))
                vs.append(grp.flow_vph)
                k += 1
            ds, vs = np.array(ds), np.array(vs)
            if ap.link is None or np.isnan(ds).any() or vs.sum() <= 0:
                continue
            assert delay[ap.link] == pytest.approx(np.dot(vs, ds) / vs.sum(), rel=1e-6)
            checked += 1
    assert checked >= 20


def test_final_flows_are_user_equilibrium_with_signal_delays(result, base):
    res = result.assignment
    net, dem = base.network, base.demand
    # Link costs used by the final assignment = travel time + the plan's delay on approach links.
    np.testing.assert_allclose(res.link_costs, res.link_times + result.link_signal_delay, rtol=1e-12)
    assert scipy_relative_gap(net, dem, res.link_flows, res.link_costs) < 1e-7


def test_loop_history_settles(result):
    h = result.history
    assert len(h) == 8 and not result.converged  # tolerance 1e-9 is not reachable in 8 rounds
    assert h[-1]["flow_change"] < 0.5 * h[0]["flow_change"]
    assert all(x["gap"] < 1e-7 for x in h)
    text = result.summary()
    assert "outer iterations" in text and len(text.splitlines()) == 2 + len(h)


def test_bad_input(base):
    with pytest.raises(InputError, match="timing"):
        signal_aware_assignment(base.network, base.demand, timing="adaptive")
    sioux, trips = datasets.tntp("SiouxFalls")
    with pytest.raises(InputError, match="no signalised node"):
        signal_aware_assignment(sioux, trips)
