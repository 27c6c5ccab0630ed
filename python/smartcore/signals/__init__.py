"""Traffic signal timing: plans, Webster cycles and splits, HCM 2000 delay and LOS, OSM plans.

* :mod:`smartcore.signals.plan`: the :class:`SignalPlan` model (intersections, approaches, lane
  groups, phases, offsets; conventions for lost time and offsets).
* :mod:`smartcore.signals.timing`: Webster's cycle, target-v/c cycle, equisaturation splits with
  minimum and maximum greens (:func:`webster`, :func:`optimise_timings`).
* :mod:`smartcore.signals.hcm`: HCM 2000 saturation flow, control delay, LOS (:func:`evaluate`).
* :mod:`smartcore.signals.osm`: default plans for OpenStreetMap ``traffic_signals``
  (:func:`from_network`).
* :mod:`smartcore.signals.maxband`: MAXBAND arterial bandwidth MILP (:func:`maxband`).
* :mod:`smartcore.signals.transyt`: TRANSYT-style network model (cyclic flow profiles, Robertson
  platoon dispersion) and optimisation of cycle, splits and offsets (:func:`optimise_network`).
* :mod:`smartcore.signals.sumo`: SUMO ``tlLogic`` round trip, platoon feeds from routes.
* :mod:`smartcore.signals.report`: per lane group / intersection reports (v/c, delay, LOS, queues)
  and time-space diagrams; :mod:`smartcore.signals.io` JSON plans; :mod:`smartcore.signals.gmns`
  GMNS signal tables; :mod:`smartcore.signals.workflow` the CLI's end-to-end workflows.

The numerical work runs in the C++ kernel (``smartcore/signals.hpp``,
``smartcore/signals_transyt.hpp``).
"""

from __future__ import annotations

from typing import Any

from smartcore.signals.hcm import (
    LOS_LETTERS,
    LOS_THRESHOLDS_S,
    Evaluation,
    apply_permitted_left,
    control_delay,
    evaluate,
    incremental_delay,
    lane_utilization_factor,
    level_of_service,
    pedestrian_min_green,
    permitted_left_factor,
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
    "pedestrian_min_green", "LOS_LETTERS", "LOS_THRESHOLDS_S", "permitted_left_factor",
    "apply_permitted_left",
    "from_network", "maxband", "optimise_network", "evaluate_network", "Feeds",
]

_LAZY = {"from_network": "smartcore.signals.osm", "maxband": "smartcore.signals.maxband",
         "optimise_network": "smartcore.signals.transyt", "evaluate_network": "smartcore.signals.transyt",
         "Feeds": "smartcore.signals.transyt"}


def __getattr__(name: str) -> Any:  # lazy heavy submodules
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'smartcore.signals' has no attribute {name!r}")
