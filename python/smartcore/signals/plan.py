"""The signal plan model: intersections, approaches, lane groups, phases and timings.

A :class:`SignalPlan` holds fixed-time (pretimed) plans of many signalised intersections. Each
:class:`Intersection` has

* :class:`Approach` es (one per incoming road), each with :class:`LaneGroup` s: lanes that share a
  saturation flow and a green (HCM 2000 Chapter 16 lane groups), carrying :class:`Movement` s
  (left, through, right, U-turn);
* a sequence of :class:`Phase` s (stages). Phases run in tuple order; each shows green, then yellow,
  then all-red, and serves the lane groups it names (and pedestrians, when ``pedestrian=True``).

Timing conventions
------------------
All times are seconds, flows vehicles (or pcu) per hour.

* Cycle ``C = sum(G + Y + R)`` over the phases (displayed green ``G``, yellow ``Y``, all-red ``R``).
* Lost time per phase ``l = l1 + (Y + R - e)``: start-up lost time ``l1`` plus clearance lost time
  (the part of the yellow and all-red not used, ``e`` being the extension of effective green into
  the yellow); HCM 2000 (Chapter 10 and Chapter 16) defaults ``l1 = 2 s`` and ``e = 2 s``, used when
  a phase does not state ``lost_time_s``. With these defaults the effective green equals the
  displayed green.
* Effective green of a phase ``g = G + Y + R - l``; ``sum(g) = C - L`` with ``L = sum(l)``. A lane
  group served by a run of consecutive phases keeps its green through the intergreens inside the
  run: its effective green is the run's ``sum(G + Y + R)`` minus the lost time of the run's last
  phase.
* **Offset** (``Intersection.offset_s``): the time in seconds, in ``[0, C)``, at which phase 0's
  green starts, measured from the common reference time ``t = 0`` of the network (and repeating
  every cycle: phase 0 starts at ``offset + k C``). A positive offset *delays* the plan. This is
  SUMO's ``tlLogic`` ``offset`` (since SUMO 1.0, eclipse-sumo/sumo#640: "an offset of 10 should
  delay the program by 10 seconds"), when the SUMO program starts with phase 0's green and the
  simulation begins at ``t = 0``. Offsets outside ``[0, C)`` are rejected; :meth:`SignalPlan.with_timings`
  reduces offsets modulo the new cycle.

Every object validates itself on construction and raises :class:`~smartcore.errors.InputError`
naming the field, e.g. ``lane_group['N.T'].saturation_flow_vph`` or
``intersection['J1'].phases[2].lane_groups``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Movement", "LaneGroup", "Approach", "Phase", "Intersection", "SignalPlan", "TURNS",
    "DEFAULT_START_UP_LOST_S", "DEFAULT_EXTENSION_S", "DEFAULT_CYCLE_MIN_S", "DEFAULT_CYCLE_MAX_S",
    "DEFAULT_YELLOW_S", "DEFAULT_ALL_RED_S", "DEFAULT_MIN_GREEN_S", "DEFAULT_ANALYSIS_PERIOD_H",
]

#: Movement kinds (turns as seen by the driver on the approach).
TURNS = ("left", "through", "right", "uturn")

#: HCM 2000 default start-up lost time l1 (s) and extension of effective green e (s).
DEFAULT_START_UP_LOST_S = 2.0
DEFAULT_EXTENSION_S = 2.0
#: Default yellow (s): ITE kinematic change interval ``t + v / (2 a)`` = 1 + 13.9 / 6.1 = 3.3 s for
#: 50 km/h, rounded to the common 3 s.
DEFAULT_YELLOW_S = 3.0
#: Default all-red (s).
DEFAULT_ALL_RED_S = 2.0
#: Default minimum green (s) of a vehicle phase (driver expectancy; typical 5-10 s, e.g. FHWA
#: Signal Timing Manual, 2nd ed., 2015, Table 5-3).
DEFAULT_MIN_GREEN_S = 7.0
#: Default practical cycle bounds (s). Webster (1958) found delay flat within 0.75 C0..1.5 C0 and
#: cycles above about 120 s rarely pay off at fixed-time signals.
DEFAULT_CYCLE_MIN_S = 30.0
DEFAULT_CYCLE_MAX_S = 120.0
#: HCM 2000 analysis period T (h) for the incremental delay.
DEFAULT_ANALYSIS_PERIOD_H = 0.25


def _num(value: Any, field: str, *, lo: float | None = 0.0, strict: bool = False,
         allow_inf: bool = False, what: str = "") -> float:
    if value is None:
        raise InputError(f"{field}: missing{what}", field=field)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{field}: expected a number, got {value!r}", field=field) from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise InputError(f"{field}: must be a finite number, got {value!r}", field=field)
    if lo is not None and (v < lo or (strict and v == lo)):
        raise InputError(f"{field}: must be {'>' if strict else '>='} {lo:g}, got {v:g}", field=field)
    return v


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclasses.dataclass(frozen=True)
class Movement:
    """One movement of a lane group.

    Attributes
    ----------
    turn : {"left", "through", "right", "uturn"}
        As seen by the driver on the approach.
    flow_vph : float
        Demand flow rate in veh/h (>= 0).
    from_link, to_link : int or None
        Dense link indices (in the :class:`~smartcore.network.Network`) of the approach link and
        of the exit link, when the plan was built from a network.
    """

    turn: str = "through"
    flow_vph: float = 0.0
    from_link: int | None = None
    to_link: int | None = None

    def __post_init__(self) -> None:
        self._check("movement")

    def _check(self, field: str) -> None:
        if self.turn not in TURNS:
            raise InputError(f"{field}.turn: {self.turn!r} is not one of {TURNS}", field=f"{field}.turn")
        _set(self, "flow_vph", _num(self.flow_vph, f"{field}.flow_vph"))


@dataclasses.dataclass(frozen=True)
class LaneGroup:
    """Lanes of one approach that share a saturation flow and a green (HCM 2000 Chapter 16).

    Attributes
    ----------
    name : str
        Unique within the intersection; phases name the lane groups they serve.
    movements : tuple of Movement (or of turn strings)
        What the lanes carry.
    lanes : int
        Number of lanes (>= 1).
    saturation_flow_vph : float
        Saturation flow rate of the whole group, veh/h of effective green (HCM 2000 Eq. 16-4, see
        :func:`smartcore.signals.saturation_flow`). Required.
    flow_vph : float, optional
        Demand flow rate v in veh/h; default the sum of the movements' flows.
    arrival_type : int
        HCM 2000 arrival type 1..6 (1 very poor progression, 3 random arrivals as at isolated
        intersections, 6 exceptional progression).
    initial_queue_veh : float
        Queue Qb at the start of the analysis period (HCM 2000 Appendix F), vehicles.
    k : float
        Incremental delay factor (0.5 for pretimed control, HCM 2000 Chapter 16).
    upstream_i : float
        Upstream filtering/metering factor I (1.0 for isolated intersections).
    opposed_by : tuple of str
        Lane groups (of the same intersection) whose flow opposes this group's *permitted* left
        turns (left turns without a protected arrow that filter through the oncoming traffic).
        Empty (the default) when the group has no left turns or they are protected. When given,
        ``unopposed_saturation_flow_vph`` is required and ``saturation_flow_vph`` is the
        unopposed value times the HCM 2000 Appendix C left-turn factor at the plan's timings
        (:func:`smartcore.signals.apply_permitted_left` recomputes it after timings change).
    unopposed_saturation_flow_vph : float, optional
        Saturation flow of the group with f_LT = 1 (every other Eq. 16-4 factor applied), veh/h.
    """

    name: str
    movements: tuple[Movement, ...] = ()
    lanes: int = 1
    saturation_flow_vph: float | None = None
    flow_vph: float | None = None
    arrival_type: int = 3
    initial_queue_veh: float = 0.0
    k: float = 0.5
    upstream_i: float = 1.0
    opposed_by: tuple[str, ...] = ()
    unopposed_saturation_flow_vph: float | None = None

    def __post_init__(self) -> None:
        _set(self, "name", str(self.name))
        self._check(f"lane_group[{self.name!r}]")

    def _check(self, field: str) -> None:
        movements = tuple(Movement(m) if isinstance(m, str) else m for m in self.movements)
        for j, m in enumerate(movements):
            if not isinstance(m, Movement):
                raise InputError(f"{field}.movements[{j}]: expected a Movement, got {m!r}",
                                 field=f"{field}.movements")
        _set(self, "movements", movements)
        lanes = _num(self.lanes, f"{field}.lanes", lo=1.0)
        if lanes != int(lanes):
            raise InputError(f"{field}.lanes: must be a whole number, got {lanes:g}", field=f"{field}.lanes")
        _set(self, "lanes", int(lanes))
        _set(self, "saturation_flow_vph", _num(
            self.saturation_flow_vph, f"{field}.saturation_flow_vph", strict=True,
            what=" (the saturation flow rate of the lane group in veh/h of green; see "
                 "smartcore.signals.saturation_flow)"))
        if self.flow_vph is None:
            flow = float(sum(m.flow_vph for m in movements))
        else:
            flow = _num(self.flow_vph, f"{field}.flow_vph")
        _set(self, "flow_vph", flow)
        if self.arrival_type not in (1, 2, 3, 4, 5, 6):
            raise InputError(f"{field}.arrival_type: must be 1..6, got {self.arrival_type!r}",
                             field=f"{field}.arrival_type")
        _set(self, "initial_queue_veh", _num(self.initial_queue_veh, f"{field}.initial_queue_veh"))
        _set(self, "k", _num(self.k, f"{field}.k"))
        _set(self, "upstream_i", _num(self.upstream_i, f"{field}.upstream_i"))
        opp = ((self.opposed_by,) if isinstance(self.opposed_by, str)
               else tuple(str(o) for o in self.opposed_by))
        _set(self, "opposed_by", opp)
        if self.unopposed_saturation_flow_vph is not None or opp:
            _set(self, "unopposed_saturation_flow_vph", _num(
                self.unopposed_saturation_flow_vph, f"{field}.unopposed_saturation_flow_vph", strict=True,
                what=" (needed with opposed_by: the saturation flow before the permitted left-turn factor)"))

    @property
    def flow_ratio(self) -> float:
        """v / s."""
        return float(self.flow_vph) / float(self.saturation_flow_vph)  # type: ignore[arg-type]

    @property
    def turns(self) -> tuple[str, ...]:
        return tuple(m.turn for m in self.movements)


@dataclasses.dataclass(frozen=True)
class Approach:
    """One incoming road of an intersection.

    Attributes
    ----------
    name : str
        E.g. ``"N"`` or the street name.
    lane_groups : tuple of LaneGroup
    bearing_deg : float or None
        Direction of travel when entering the junction, degrees clockwise from north (0 = heading
        north, i.e. arriving from the south).
    link : int or None
        Dense index of the approach link in the network, when built from one.
    """

    name: str
    lane_groups: tuple[LaneGroup, ...] = ()
    bearing_deg: float | None = None
    link: int | None = None

    def __post_init__(self) -> None:
        _set(self, "name", str(self.name))
        self._check(f"approach[{self.name!r}]")

    def _check(self, field: str) -> None:
        groups = tuple(self.lane_groups)
        if not groups:
            raise InputError(f"{field}.lane_groups: an approach needs at least one lane group",
                             field=f"{field}.lane_groups")
        for j, g in enumerate(groups):
            if not isinstance(g, LaneGroup):
                raise InputError(f"{field}.lane_groups[{j}]: expected a LaneGroup, got {g!r}",
                                 field=f"{field}.lane_groups")
        _set(self, "lane_groups", groups)
        if self.bearing_deg is not None:
            _set(self, "bearing_deg", _num(self.bearing_deg, f"{field}.bearing_deg", lo=None) % 360.0)


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase (stage) of a fixed-time plan: green, then yellow, then all-red.

    Attributes
    ----------
    name : str
    lane_groups : tuple of str
        Names of the lane groups that have green in this phase.
    green_s : float, optional
        Displayed green G (s). Default: the minimum green.
    yellow_s, all_red_s : float
        Yellow Y and all-red R (s).
    lost_time_s : float, optional
        Lost time l of the phase (s). Default ``l1 + Y + R - e`` with the HCM 2000 defaults
        l1 = 2 s, e = 2 s (see the module docs).
    min_green_s, max_green_s : float
        Bounds on the displayed green (s); ``max_green_s`` may be ``inf``.
    pedestrian : bool
        The phase also serves pedestrian crossings (a phase serving no lane group must).
    ped_min_green_s : float
        Minimum green for pedestrians (s), e.g. from :func:`smartcore.signals.pedestrian_min_green`;
        the phase's effective minimum is ``max(min_green_s, ped_min_green_s)``.
    """

    name: str
    lane_groups: tuple[str, ...] = ()
    green_s: float | None = None
    yellow_s: float = DEFAULT_YELLOW_S
    all_red_s: float = DEFAULT_ALL_RED_S
    lost_time_s: float | None = None
    min_green_s: float = DEFAULT_MIN_GREEN_S
    max_green_s: float = math.inf
    pedestrian: bool = False
    ped_min_green_s: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "name", str(self.name))
        self._check(f"phase[{self.name!r}]")

    def _check(self, field: str) -> None:
        groups = (self.lane_groups,) if isinstance(self.lane_groups, str) else tuple(self.lane_groups)
        _set(self, "lane_groups", groups)
        _set(self, "pedestrian", bool(self.pedestrian))
        if not groups and not self.pedestrian:
            raise InputError(f"{field}.lane_groups: the phase serves no movement (name the lane "
                             "groups it serves, or set pedestrian=True for a pedestrian-only phase)",
                             field=f"{field}.lane_groups")
        for name in ("yellow_s", "all_red_s", "min_green_s", "ped_min_green_s"):
            _set(self, name, _num(getattr(self, name), f"{field}.{name}"))
        mx = _num(self.max_green_s, f"{field}.max_green_s", allow_inf=True)
        if mx < self.min_green_effective_s:
            raise InputError(f"{field}.max_green_s: {mx:g} s is below the minimum green "
                             f"{self.min_green_effective_s:g} s", field=f"{field}.max_green_s")
        _set(self, "max_green_s", mx)
        if self.lost_time_s is None:
            lost = max(0.0, DEFAULT_START_UP_LOST_S + self.yellow_s + self.all_red_s - DEFAULT_EXTENSION_S)
        else:
            lost = _num(self.lost_time_s, f"{field}.lost_time_s")
        _set(self, "lost_time_s", lost)
        green = self.min_green_effective_s if self.green_s is None else _num(self.green_s, f"{field}.green_s")
        _set(self, "green_s", green)

    @property
    def min_green_effective_s(self) -> float:
        """max(min_green_s, ped_min_green_s)."""
        return max(float(self.min_green_s), float(self.ped_min_green_s))

    @property
    def duration_s(self) -> float:
        """G + Y + R."""
        return float(self.green_s) + self.yellow_s + self.all_red_s  # type: ignore[arg-type]

    @property
    def effective_green_s(self) -> float:
        """g = G + Y + R - l."""
        return self.duration_s - float(self.lost_time_s)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Intersection:
    """A signalised intersection with its approaches, phases and offset.

    Attributes
    ----------
    id : str
    approaches : tuple of Approach
    phases : tuple of Phase
        In running order; phase 0 starts at ``offset_s``.
    offset_s : float
        Start of phase 0's green in ``[0, C)`` s after the network reference time (module docs).
    cycle_min_s, cycle_max_s : float
        Practical cycle bounds used by the optimisers (s).
    nodes : tuple of int
        Dense node indices of the network nodes forming the junction (when built from a network).
    x, y : float or None
        Location (longitude/latitude for OSM networks).
    """

    id: str
    approaches: tuple[Approach, ...]
    phases: tuple[Phase, ...]
    offset_s: float = 0.0
    cycle_min_s: float = DEFAULT_CYCLE_MIN_S
    cycle_max_s: float = DEFAULT_CYCLE_MAX_S
    nodes: tuple[int, ...] = ()
    x: float | None = None
    y: float | None = None

    def __post_init__(self) -> None:
        _set(self, "id", str(self.id))
        self._check(f"intersection[{self.id!r}]")

    def _check(self, field: str) -> None:
        approaches = tuple(self.approaches)
        phases = tuple(self.phases)
        if not approaches:
            raise InputError(f"{field}.approaches: intersection {self.id!r} has no approach",
                             field=f"{field}.approaches")
        if not phases:
            raise InputError(f"{field}.phases: intersection {self.id!r} has no phase",
                             field=f"{field}.phases")
        for j, a in enumerate(approaches):
            if not isinstance(a, Approach):
                raise InputError(f"{field}.approaches[{j}]: expected an Approach, got {a!r}",
                                 field=f"{field}.approaches")
        names: dict[str, str] = {}
        for j, a in enumerate(approaches):
            for k, g in enumerate(a.lane_groups):
                where = f"{field}.approaches[{j}].lane_groups[{k}].name"
                if g.name in names:
                    raise InputError(f"{where}: lane group name {g.name!r} is used twice in "
                                     f"intersection {self.id!r}", field=where)
                names[g.name] = where
        for j, a in enumerate(approaches):
            for k, g in enumerate(a.lane_groups):
                for o in g.opposed_by:
                    if o not in names or o == g.name:
                        where = f"{field}.approaches[{j}].lane_groups[{k}].opposed_by"
                        raise InputError(f"{where}: {o!r} is not another lane group of intersection "
                                         f"{self.id!r}", field=where)
        served: set[str] = set()
        for j, p in enumerate(phases):
            if not isinstance(p, Phase):
                raise InputError(f"{field}.phases[{j}]: expected a Phase, got {p!r}", field=f"{field}.phases")
            for name in p.lane_groups:
                if name not in names:
                    raise InputError(f"{field}.phases[{j}].lane_groups: no lane group named {name!r} in "
                                     f"intersection {self.id!r} (known: {sorted(names)})",
                                     field=f"{field}.phases[{j}].lane_groups")
                served.add(name)
        for name, where in names.items():
            if name not in served:
                raise InputError(f"{where}: lane group {name!r} of intersection {self.id!r} is served by "
                                 "no phase", field=where)
        _set(self, "approaches", approaches)
        _set(self, "phases", phases)
        lo = _num(self.cycle_min_s, f"{field}.cycle_min_s", strict=True)
        hi = _num(self.cycle_max_s, f"{field}.cycle_max_s", strict=True)
        if hi < lo:
            raise InputError(f"{field}.cycle_max_s: {hi:g} s is below cycle_min_s {lo:g} s",
                             field=f"{field}.cycle_max_s")
        _set(self, "cycle_min_s", lo)
        _set(self, "cycle_max_s", hi)
        cycle = self.cycle_s
        if not cycle > 0:
            raise InputError(f"{field}.phases: intersection {self.id!r} has a zero cycle",
                             field=f"{field}.phases")
        off = _num(self.offset_s, f"{field}.offset_s", lo=None)
        if not 0.0 <= off < cycle:
            raise InputError(f"{field}.offset_s: {off:g} s lies outside the cycle [0, {cycle:g}) s "
                             "(offsets are taken modulo the cycle only by with_timings(); reduce it, "
                             "e.g. offset % cycle)", field=f"{field}.offset_s")
        _set(self, "offset_s", off)
        _set(self, "nodes", tuple(int(n) for n in self.nodes))

    # ------------------------------------------------------------------ derived
    @property
    def cycle_s(self) -> float:
        """C = sum(G + Y + R) over the phases (s)."""
        return float(sum(p.duration_s for p in self.phases))

    @property
    def lost_time_s(self) -> float:
        """L = sum of the phases' lost times (s)."""
        return float(sum(float(p.lost_time_s or 0.0) for p in self.phases))

    @property
    def lane_groups(self) -> tuple[LaneGroup, ...]:
        """All lane groups, approach by approach."""
        return tuple(g for a in self.approaches for g in a.lane_groups)

    def lane_group(self, name: str) -> LaneGroup:
        for g in self.lane_groups:
            if g.name == name:
                return g
        raise InputError(f"no lane group {name!r} in intersection {self.id!r}", field="name")

    def phases_serving(self, name: str) -> tuple[int, ...]:
        """Indices of the phases that give lane group ``name`` green."""
        return tuple(j for j, p in enumerate(self.phases) if name in p.lane_groups)

    def replace(self, **changes: Any) -> Intersection:
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True, eq=False)
class SignalPlan:
    """Fixed-time plans of a set of intersections (validated on construction).

    Attributes
    ----------
    intersections : tuple of Intersection
        Intersection ids must be unique.
    analysis_period_h : float
        HCM analysis period T (h) used by the delay model.
    name : str
    metadata : mapping
        Free-form provenance (e.g. the defaults used by :func:`smartcore.signals.from_network`).
    """

    intersections: tuple[Intersection, ...]
    analysis_period_h: float = DEFAULT_ANALYSIS_PERIOD_H
    name: str = ""
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        inters = tuple(self.intersections)
        seen: dict[str, int] = {}
        for i, it in enumerate(inters):
            if not isinstance(it, Intersection):
                raise InputError(f"intersections[{i}]: expected an Intersection, got {type(it).__name__}",
                                 field=f"intersections[{i}]")
            if it.id in seen:
                raise InputError(f"intersections[{i}].id: id {it.id!r} is also intersection {seen[it.id]}",
                                 field=f"intersections[{i}].id")
            seen[it.id] = i
        _set(self, "intersections", inters)
        _set(self, "analysis_period_h", _num(self.analysis_period_h, "analysis_period_h", strict=True))
        _set(self, "metadata", MappingProxyType(dict(self.metadata)))
        _set(self, "_index", seen)
        _set(self, "_arrays", None)

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.intersections)

    def __iter__(self) -> Any:
        return iter(self.intersections)

    def __getitem__(self, key: int | str) -> Intersection:
        if isinstance(key, str):
            try:
                return self.intersections[self._index[key]]  # type: ignore[attr-defined]
            except KeyError:
                raise InputError(f"no intersection with id {key!r}", field="id") from None
        return self.intersections[key]

    def __repr__(self) -> str:
        a = self.arrays()
        return (f"<SignalPlan {self.name or '<unnamed>'}: {len(self)} intersections, "
                f"{len(a['yellow_s'])} phases, {len(a['flow_vph'])} lane groups>")

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self.intersections]

    # ------------------------------------------------------------------ flat arrays
    def arrays(self) -> dict[str, np.ndarray]:
        """The plan as flat arrays in the kernel's layout (read-only, computed once).

        Keys: ``phase_first`` / ``group_first`` (int32, CSR per intersection), ``serve_first`` /
        ``serve_phase`` (int32, phases of each lane group, global indices), phase arrays
        ``yellow_s all_red_s lost_s min_green_s max_green_s green_s``, intersection arrays
        ``cycle_min_s cycle_max_s offset_s``, lane group arrays ``flow_vph sat_flow_vph
        arrival_type k upstream_i initial_queue_veh lanes``.
        """
        if self._arrays is not None:  # type: ignore[attr-defined]
            return self._arrays  # type: ignore[attr-defined]
        phase_first = [0]
        group_first = [0]
        serve_first = [0]
        serve_phase: list[int] = []
        ph: dict[str, list[float]] = {k: [] for k in ("yellow_s", "all_red_s", "lost_s", "min_green_s",
                                                     "max_green_s", "green_s")}
        gr: dict[str, list[float]] = {k: [] for k in ("flow_vph", "sat_flow_vph", "arrival_type", "k",
                                                     "upstream_i", "initial_queue_veh", "lanes")}
        for it in self.intersections:
            base = phase_first[-1]
            for p in it.phases:
                ph["yellow_s"].append(p.yellow_s)
                ph["all_red_s"].append(p.all_red_s)
                ph["lost_s"].append(float(p.lost_time_s))  # type: ignore[arg-type]
                ph["min_green_s"].append(p.min_green_effective_s)
                ph["max_green_s"].append(p.max_green_s)
                ph["green_s"].append(float(p.green_s))  # type: ignore[arg-type]
            phase_first.append(base + len(it.phases))
            serving: dict[str, list[int]] = {}
            for j, p in enumerate(it.phases):
                for name in p.lane_groups:
                    serving.setdefault(name, []).append(base + j)
            n = 0
            for a in it.approaches:
                for g in a.lane_groups:
                    serve_phase.extend(sorted(set(serving[g.name])))
                    serve_first.append(len(serve_phase))
                    gr["flow_vph"].append(float(g.flow_vph))  # type: ignore[arg-type]
                    gr["sat_flow_vph"].append(float(g.saturation_flow_vph))  # type: ignore[arg-type]
                    gr["arrival_type"].append(g.arrival_type)
                    gr["k"].append(g.k)
                    gr["upstream_i"].append(g.upstream_i)
                    gr["initial_queue_veh"].append(g.initial_queue_veh)
                    gr["lanes"].append(g.lanes)
                    n += 1
            group_first.append(group_first[-1] + n)
        out: dict[str, np.ndarray] = {
            "phase_first": np.asarray(phase_first, dtype=np.int32),
            "group_first": np.asarray(group_first, dtype=np.int32),
            "serve_first": np.asarray(serve_first, dtype=np.int32),
            "serve_phase": np.asarray(serve_phase, dtype=np.int32),
            "cycle_min_s": np.asarray([it.cycle_min_s for it in self.intersections], dtype=np.float64),
            "cycle_max_s": np.asarray([it.cycle_max_s for it in self.intersections], dtype=np.float64),
            "offset_s": np.asarray([it.offset_s for it in self.intersections], dtype=np.float64),
        }
        for k, vals in ph.items():
            out[k] = np.asarray(vals, dtype=np.float64)
        for k, vals in gr.items():
            out[k] = np.asarray(vals, dtype=np.int32 if k in ("arrival_type", "lanes") else np.float64)
        for arr in out.values():
            arr.flags.writeable = False
        _set(self, "_arrays", out)
        return out

    # ------------------------------------------------------------------ changes
    def with_timings(self, green_s: Sequence[float] | np.ndarray | None = None, *,
                     offset_s: Sequence[float] | np.ndarray | None = None) -> SignalPlan:
        """A copy with new displayed greens and/or offsets.

        Parameters
        ----------
        green_s : array of float, optional
            Displayed green of every phase, flat in plan order (``arrays()['green_s']`` layout).
        offset_s : array of float, optional
            Offset of every intersection (s). Offsets (new or kept) are reduced modulo each
            intersection's new cycle.
        """
        a = self.arrays()
        greens = a["green_s"] if green_s is None else np.asarray(green_s, dtype=np.float64)
        if greens.shape != a["green_s"].shape:
            raise InputError(f"green_s must have {len(a['green_s'])} entries, got {greens.shape}",
                             field="green_s")
        offs = a["offset_s"] if offset_s is None else np.asarray(offset_s, dtype=np.float64)
        if offs.shape != a["offset_s"].shape:
            raise InputError(f"offset_s must have {len(a['offset_s'])} entries, got {offs.shape}",
                             field="offset_s")
        if not np.all(np.isfinite(offs)):
            raise InputError("offset_s must be finite", field="offset_s")
        new = []
        pf = a["phase_first"]
        for i, it in enumerate(self.intersections):
            phases = tuple(dataclasses.replace(p, green_s=float(greens[pf[i] + j]))
                           for j, p in enumerate(it.phases))
            cycle = float(sum(float(g) + p.yellow_s + p.all_red_s
                              for g, p in zip(greens[pf[i]:pf[i + 1]], it.phases)))
            off = float(offs[i]) % cycle if cycle > 0 else 0.0
            if off >= cycle:  # float modulo can round up to the cycle
                off = 0.0
            new.append(dataclasses.replace(it, phases=phases, offset_s=off))
        return dataclasses.replace(self, intersections=tuple(new))

    def with_saturation_flows(self, saturation_flow_vph: Sequence[float] | np.ndarray) -> SignalPlan:
        """A copy with new lane-group saturation flows (veh/h, flat in plan order)."""
        sat = np.asarray(saturation_flow_vph, dtype=np.float64)
        if sat.shape != self.arrays()["sat_flow_vph"].shape:
            raise InputError(f"saturation_flow_vph must have {len(self.arrays()['sat_flow_vph'])} entries",
                             field="saturation_flow_vph")
        k = 0
        new = []
        for it in self.intersections:
            approaches = []
            for ap in it.approaches:
                groups = []
                for g in ap.lane_groups:
                    groups.append(dataclasses.replace(g, saturation_flow_vph=float(sat[k])))
                    k += 1
                approaches.append(dataclasses.replace(ap, lane_groups=tuple(groups)))
            new.append(dataclasses.replace(it, approaches=tuple(approaches)))
        return dataclasses.replace(self, intersections=tuple(new))

    def replace(self, **changes: Any) -> SignalPlan:
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ tables
    def lane_group_table(self) -> pd.DataFrame:
        """One row per lane group: intersection, approach, name, turns, lanes, v, s, v/s, phases."""
        import pandas as pd

        rows = []
        for it in self.intersections:
            for a in it.approaches:
                for g in a.lane_groups:
                    rows.append({
                        "intersection": it.id, "approach": a.name, "lane_group": g.name,
                        "turns": "+".join(g.turns), "lanes": g.lanes, "flow_vph": g.flow_vph,
                        "saturation_flow_vph": g.saturation_flow_vph, "flow_ratio": g.flow_ratio,
                        "phases": ",".join(it.phases[j].name for j in it.phases_serving(g.name)),
                        "arrival_type": g.arrival_type,
                    })
        return pd.DataFrame(rows)

    def phase_table(self) -> pd.DataFrame:
        """One row per phase: intersection, index, name, G, Y, R, l, g, min/max green, offset."""
        import pandas as pd

        rows = []
        for it in self.intersections:
            start = 0.0
            for j, p in enumerate(it.phases):
                rows.append({
                    "intersection": it.id, "phase": j, "name": p.name, "green_s": p.green_s,
                    "yellow_s": p.yellow_s, "all_red_s": p.all_red_s, "lost_time_s": p.lost_time_s,
                    "effective_green_s": p.effective_green_s, "min_green_s": p.min_green_effective_s,
                    "max_green_s": p.max_green_s, "start_s": start, "cycle_s": it.cycle_s,
                    "offset_s": it.offset_s, "lane_groups": ",".join(p.lane_groups),
                    "pedestrian": p.pedestrian,
                })
                start += p.duration_s
        return pd.DataFrame(rows)


def simple_intersection(
    id: str,
    flows_vph: Iterable[Sequence[float]] | Mapping[str, Sequence[float]],
    saturation_flow_vph: float | Sequence[float] | None = None,
    *,
    lost_time_s: float | None = None,
    yellow_s: float = DEFAULT_YELLOW_S,
    all_red_s: float = DEFAULT_ALL_RED_S,
    min_green_s: float = DEFAULT_MIN_GREEN_S,
    green_s: Sequence[float] | None = None,
    **kwargs: Any,
) -> Intersection:
    """An intersection with one lane group per (phase, entry): the textbook stage layout.

    Parameters
    ----------
    id : str
    flows_vph : sequence of sequences, or mapping phase name -> sequence
        Lane group flows (veh/h) of each phase; each lane group is served by its phase only.
    saturation_flow_vph : float or sequence
        Saturation flow of every lane group (scalar), or one per phase. Required.
    lost_time_s : float, optional
        Lost time per phase (default from yellow and all-red, see module docs).
    green_s : sequence of float, optional
        Displayed greens; default the minimum green.
    **kwargs
        Further :class:`Intersection` fields (``offset_s``, ``cycle_min_s``, ...).
    """
    items = list(flows_vph.items()) if isinstance(flows_vph, Mapping) else [
        (f"P{j + 1}", f) for j, f in enumerate(flows_vph)]
    sat: list[Any] = (list(saturation_flow_vph) if isinstance(saturation_flow_vph, (list, tuple, np.ndarray))
                      else [saturation_flow_vph] * len(items))
    if len(sat) != len(items):
        raise InputError("saturation_flow_vph needs one value per phase", field="saturation_flow_vph")
    approaches, phases = [], []
    for j, (pname, flows) in enumerate(items):
        flows = [flows] if np.isscalar(flows) else list(flows)
        names = []
        groups = []
        for k, v in enumerate(flows):
            gname = f"{pname}.{k + 1}"
            names.append(gname)
            groups.append(LaneGroup(gname, (Movement("through", v),), 1, sat[j]))
        approaches.append(Approach(str(pname), tuple(groups)))
        phases.append(Phase(str(pname), tuple(names), None if green_s is None else green_s[j],
                            yellow_s, all_red_s, lost_time_s, min_green_s))
    return Intersection(id, tuple(approaches), tuple(phases), **kwargs)
