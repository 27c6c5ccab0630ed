"""Traffic signal timing: plans, Webster cycles and splits, HCM 2000 delay and LOS, OSM plans.

* :mod:`smartcore.signals.plan`: the :class:`SignalPlan` model (intersections, approaches, lane
  groups, phases, offsets; conventions for lost time and offsets).
* :mod:`smartcore.signals.timing`: Webster's cycle, target-v/c cycle, equisaturation splits with
  minimum and maximum greens (:func:`webster`, :func:`optimise_timings`).
* :mod:`smartcore.signals.hcm`: HCM 2000 saturation flow, control delay, LOS (:func:`evaluate`).
* :mod:`smartcore.signals.osm`: default plans for OpenStreetMap ``traffic_signals``
  (:func:`from_network`).
* :mod:`smartcore.signals.maxband`: MAXBAND arterial bandwidth MILP (:func:`maxband`).

The numerical work runs in the C++ kernel (``smartcore/signals.hpp``).
"""

from __future__ import annotations

from smartcore.signals.hcm import (
    LOS_LETTERS,
    LOS_THRESHOLDS_S,
    Evaluation,
    control_delay,
    evaluate,
    incremental_delay,
    lane_utilization_factor,
    level_of_service,
    pedestrian_min_green,
    progression_factor,
    saturation_flow,
    uniform_delay,
)
from smartcore.signals.plan import (
    Approach,
    Intersection,
    LaneGroup,
    Movement,
    Phase,
    SignalPlan,
    simple_intersection,
)
from smartcore.signals.timing import (
    STATUS_FLAGS,
    TimingResult,
    WebsterResult,
    best_common_cycle,
    cycle_for_target_vc,
    decode_status,
    optimise_timings,
    webster,
    webster_cycle,
)

__all__ = [
    "Approach", "Intersection", "LaneGroup", "Movement", "Phase", "SignalPlan", "simple_intersection",
    "webster", "webster_cycle", "cycle_for_target_vc", "optimise_timings", "WebsterResult",
    "TimingResult", "STATUS_FLAGS", "decode_status", "best_common_cycle",
    "evaluate", "Evaluation", "control_delay", "uniform_delay", "incremental_delay",
    "progression_factor", "level_of_service", "saturation_flow", "lane_utilization_factor",
    "pedestrian_min_green", "LOS_LETTERS", "LOS_THRESHOLDS_S",
    "from_network", "maxband",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy heavy submodules
    if name == "from_network":
        from smartcore.signals.osm import from_network

        return from_network
    if name == "maxband":
        from smartcore.signals.maxband import maxband

        return maxband
    raise AttributeError(f"module 'smartcore.signals' has no attribute {name!r}")
