"""Type stub for the compiled kernel ``smartcore._core`` (built from cpp/bindings/).

Internal: the package's modules wrap every function here with validation, units and docs. The
signatures follow the bindings (argument names are the ``py::arg`` names, so keywords work);
array arguments accept anything numpy converts (pybind11 ``array_t`` casts dtype and layout). The
test script checks that this stub and the built extension define the same names
(``python -m mypy.stubtest smartcore._core``; pybind11 functions carry no introspectable
signature, so stubtest checks names, classes and properties, and mypy checks the calls).
"""

from collections.abc import Callable, Sequence
from typing import Any, type_check_only

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_Progress = Callable[[int, int], object] | None  # progress(done, total); False cancels
# A scan error: None, or (kind, line, column, token).
_ScanError = tuple[int, int, int, bytes] | None

# ------------------------------------------------------------------------------------------ graph
def build_star(num_nodes: int, key: npt.ArrayLike, other: npt.ArrayLike) -> tuple[_I32, _I32, _I32]:
    """Stable counting sort of links on key -> (first[n+1], link[m], other[m]) (int32)."""

def weak_components(num_nodes: int, tail: npt.ArrayLike, head: npt.ArrayLike) -> tuple[int, _I32]:
    """Weakly connected components -> (count, label[n]); label = min node."""

def strong_components(fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                      bs_first: npt.ArrayLike, bs_link: npt.ArrayLike, bs_tail: npt.ArrayLike
                      ) -> tuple[int, _I32]:
    """Strongly connected components -> (count, label[n]); label = min node of the component."""

# --------------------------------------------------------------------------------------------- io
def scan_numeric_table(text: str | bytes, first_line: int, ncols: int, comment: str = "~"
                       ) -> tuple[_F64, _I64, _ScanError]:
    """Numbers of a whitespace/';'-separated table -> (values[rows, ncols], row_line[rows], error)."""

def scan_tntp_trips(text: str | bytes, first_line: int, comment: str = "~"
                    ) -> tuple[_F64, _F64, _F64, _I64, _F64, _I64, _ScanError]:
    """TNTP trips body -> (origin, destination, value, line, block_origin, block_line, error)."""

# ---------------------------------------------------------------------------------------- routing
# The batched queries the bindings define once for every routing index (def_batches, def_costs
# and tree in cpp/bindings/routing.cpp): stub-only bases, absent at runtime.
@type_check_only
class _Batches:
    @property
    def num_nodes(self) -> int: ...
    def distance_matrix(self, origins: npt.ArrayLike, targets: npt.ArrayLike, threads: int = 0,
                        progress: _Progress = None) -> _F64: ...
    def shortest_paths(self, origins: npt.ArrayLike, destinations: npt.ArrayLike, threads: int = 0,
                       progress: _Progress = None) -> tuple[_F64, _I64, _I32]: ...

@type_check_only
class _CostBatches(_Batches):
    def shortest_path_costs(self, origins: npt.ArrayLike, destinations: npt.ArrayLike,
                            threads: int = 0, progress: _Progress = None) -> _F64: ...

@type_check_only
class _Trees:
    def tree(self, origin: int, targets: npt.ArrayLike | None = None, radius: float = ...
             ) -> tuple[_F64, _I32]: ...

class RoutingGraph(_CostBatches, _Trees):
    """Immutable routing index for one weight (see smartcore/routing.hpp)."""

    def __init__(self, fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                 weight: npt.ArrayLike, first_thru_node: int, reorder: bool = True) -> None: ...
    @property
    def num_links(self) -> int: ...
    @property
    def first_thru_node(self) -> int: ...
    def with_weight(self, weight: npt.ArrayLike) -> RoutingGraph: ...

class TurnGraph(_Batches, _Trees):
    """Edge-based routing index with turn penalties and bans (smartcore/routing.hpp)."""

    def __init__(self, fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                 weight: npt.ArrayLike, first_thru_node: int, turn_from: npt.ArrayLike,
                 turn_to: npt.ArrayLike, turn_penalty: npt.ArrayLike) -> None: ...
    @property
    def num_turns(self) -> int: ...
    def with_weight(self, weight: npt.ArrayLike) -> TurnGraph: ...

class Hierarchy(_CostBatches):
    """Searchable contraction hierarchy for one weight (see smartcore/ch.hpp)."""

    @property
    def num_edges(self) -> int: ...
    def tree(self, origin: int, graph: RoutingGraph) -> tuple[_F64, _I32, bool]: ...

class CustomizableCH:
    """Metric-independent contraction hierarchy."""

    def __init__(self, fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                 first_thru_node: int, node_x: npt.ArrayLike | None = None,
                 node_y: npt.ArrayLike | None = None, progress: _Progress = None) -> None: ...
    @property
    def num_edges(self) -> int: ...
    @property
    def num_triangles(self) -> int: ...
    def customize(self, weight: npt.ArrayLike) -> Hierarchy: ...

def contraction_hierarchy(fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                          weight: npt.ArrayLike, first_thru_node: int,
                          witness_settle_limit: int | None = None, order: str = "greedy",
                          node_x: npt.ArrayLike | None = None, node_y: npt.ArrayLike | None = None,
                          progress: _Progress = None) -> Hierarchy:
    """Classic (weight-dependent) contraction hierarchy, order 'greedy' or 'dissection'."""

def tree(fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
         weight: npt.ArrayLike, first_thru_node: int, origin: int,
         targets: npt.ArrayLike | None = None, radius: float = ...) -> tuple[_F64, _I32]:
    """One tree on the network's own arrays (zero copy): (dist[n], pred_link[n])."""

def reference_dijkstra(fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                       weight: npt.ArrayLike, first_thru_node: int, origin: int
                       ) -> tuple[_F64, _I32]:
    """Textbook binary-heap Dijkstra (benchmark baseline): (dist[n], pred_link[n])."""

# ------------------------------------------------------------------------------------- assignment
class BushSolution:
    """The bushes of an assignment (kept for warm starts and analyses)."""

    @property
    def num_classes(self) -> int: ...
    @property
    def num_bushes(self) -> int: ...
    @property
    def nbytes(self) -> int: ...

def link_performance(vdf: int, free_flow_time: npt.ArrayLike, capacity: npt.ArrayLike,
                     alpha: npt.ArrayLike, beta: npt.ArrayLike, flow: npt.ArrayLike
                     ) -> tuple[_F64, _F64, _F64]:
    """(time, derivative, integral) per link; vdf 0 = BPR, 1 = conical."""

def assign(fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
           tail: npt.ArrayLike, head: npt.ArrayLike, first_thru_node: int,
           zone_node: npt.ArrayLike, vdf: int, free_flow_time: npt.ArrayLike,
           capacity: npt.ArrayLike, alpha: npt.ArrayLike, beta: npt.ArrayLike,
           classes: list[Any], algorithm: int, gap: float, max_iterations: int,
           time_limit: float, threads: int, progress: _Progress = None,
           bush_inner_sweeps: int = 40, bush_sweep_reduction: float = 0.03,
           bush_extrapolation_sweeps: int = 2, keep_bushes: bool = True,
           warm_bushes: BushSolution | None = None, warm_flows: Any = None,
           warm_demand: Any = None) -> dict[str, Any]:
    """Static traffic assignment (see smartcore/assignment.hpp); returns a dict of arrays."""

def shortest_path_skims(fs_first: npt.ArrayLike, fs_link: npt.ArrayLike, fs_head: npt.ArrayLike,
                        tail: npt.ArrayLike, head: npt.ArrayLike, first_thru_node: int,
                        zone_node: npt.ArrayLike, cost: npt.ArrayLike,
                        values: Sequence[npt.ArrayLike], threads: int) -> _F64:
    """(V, Z, Z) sums of each value array along one shortest path per OD pair at `cost`."""

def bush_average_skims(bushes: BushSolution, cls: int, values: Sequence[npt.ArrayLike],
                       base: npt.ArrayLike, threads: int) -> _F64:
    """base with the class's OD pairs that carry demand replaced by flow-weighted averages."""

def select_link(bushes: BushSolution, cls: int, links: npt.ArrayLike, threads: int) -> _F64:
    """Z x Z flow using any of the links (cls -1: all classes in PCE)."""

def bush_path_flows(bushes: BushSolution, cls: int, origin: int, destination: int,
                    max_paths: int, min_flow: float) -> list[tuple[_I32, float]]:
    """[(links, flow)] of one OD pair (zone indices), proportional decomposition."""

def bush_origin_flows(bushes: BushSolution, cls: int, origin: int) -> _F64:
    """Link flows (vehicles) of one origin zone's bush."""

# ---------------------------------------------------------------------------------------- signals
def signals_webster_cycle(lost_time_s: float, flow_ratio_sum: float) -> float:
    """Webster optimum cycle (1.5 L + 5) / (1 - Y) in s; inf when Y >= 1."""

def signals_cycle_for_target_vc(lost_time_s: float, flow_ratio_sum: float, target_x: float
                                ) -> float:
    """Cycle L Xc / (Xc - Y) in s; inf when Y >= Xc."""

def signals_progression_factor(arrival_type: int, g_over_c: float) -> float:
    """HCM 2000 progression factor PF (Eq. 16-10)."""

def signals_lane_group_delay(cycle_s: npt.ArrayLike, eff_green_s: npt.ArrayLike,
                             flow_vph: npt.ArrayLike, sat_flow_vph: npt.ArrayLike,
                             arrival_type: npt.ArrayLike, k: npt.ArrayLike,
                             upstream_i: npt.ArrayLike, initial_queue_veh: npt.ArrayLike,
                             analysis_period_h: float) -> dict[str, _F64]:
    """Elementwise HCM 2000 lane-group delay terms -> dict of arrays."""

def signals_level_of_service(delay_s: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """HCM 2000 LOS codes 0..5 (A..F) by control delay; -1 for NaN."""

def signals_permitted_left_factor(inputs: dict[str, Any]) -> dict[str, _F64]:
    """HCM 2000 Appendix C permitted left-turn factors, elementwise -> dict of arrays."""

def signals_timings(plan: dict[str, Any], method: int, target_x: float,
                    fixed_cycle_s: npt.ArrayLike, y_phase: npt.ArrayLike | None = None
                    ) -> tuple[_F64, _F64, _F64, npt.NDArray[np.uint32], _F64]:
    """Cycle and greens of every intersection -> (y_phase, cycle_s, green_s, status, critical_xc)."""

def signals_evaluate(plan: dict[str, Any], green_s: npt.ArrayLike, analysis_period_h: float
                     ) -> dict[str, Any]:
    """HCM 2000 control delay of every lane group and intersection -> {'groups', 'intersections'}."""

def signals_transyt_evaluate(plan: dict[str, Any], feeds: dict[str, Any], green_s: npt.ArrayLike,
                             offset_s: npt.ArrayLike, options: dict[str, Any],
                             profiles: bool = False) -> dict[str, Any]:
    """TRANSYT-style evaluation of a plan -> per-lane-group arrays, total_pi (and profiles)."""

def signals_transyt_optimise(plan: dict[str, Any], feeds: dict[str, Any], green_s: npt.ArrayLike,
                             offset_s: npt.ArrayLike, options: dict[str, Any],
                             search: dict[str, Any], progress: _Progress = None
                             ) -> dict[str, Any]:
    """TRANSYT-style hill climb of cycle, splits and offsets -> dict (green_s, offset_s, pi, ...)."""
