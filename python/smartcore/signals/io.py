"""Signal plans as JSON files (``smartcore signals optimize ... -o plans.json``).

Layout (``"format": "smartcore.signal_plan"``, ``"version": 1``)::

    {"format": ..., "version": 1, "name": str, "analysis_period_h": float, "metadata": {...},
     "intersections": [{"id", "offset_s", "cycle_min_s", "cycle_max_s", "nodes", "x", "y",
                        "approaches": [{"name", "bearing_deg", "link", "lane_groups": [
                            {"name", "lanes", "saturation_flow_vph", "flow_vph", "arrival_type",
                             "initial_queue_veh", "k", "upstream_i", "opposed_by",
                             "unopposed_saturation_flow_vph",
                             "movements": [{"turn", "flow_vph", "from_link", "to_link"}]}]}],
                        "phases": [{"name", "lane_groups", "green_s", "yellow_s", "all_red_s",
                                    "lost_time_s", "min_green_s", "max_green_s", "pedestrian",
                                    "ped_min_green_s"}]}],
     "feeds": [{"to_intersection", "to_lane_group", "from_intersection", "from_lane_group",
                "share", "travel_time_s"}]}        (optional)

Times in s, flows in veh/h; an unbounded maximum green is ``null``. Reading validates everything
through the plan model, and errors name the file and the JSON path of the bad field.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartcore.errors import FormatError, InputError
from smartcore.signals.plan import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.signals.transyt import Feeds

__all__ = ["plan_to_dict", "plan_from_dict", "write_plan", "read_plan", "FORMAT"]

FORMAT = "smartcore.signal_plan"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def plan_to_dict(plan: SignalPlan, feeds: Feeds | None = None) -> dict[str, Any]:
    """The JSON-ready dict of a plan (and its feeds), module layout."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "name": plan.name,
        "analysis_period_h": plan.analysis_period_h,
        "metadata": _clean(dict(plan.metadata)),
        "intersections": [],
    }
    for it in plan:
        out["intersections"].append(
            {
                "id": it.id,
                "offset_s": it.offset_s,
                "cycle_min_s": it.cycle_min_s,
                "cycle_max_s": it.cycle_max_s,
                "nodes": list(it.nodes),
                "x": it.x,
                "y": it.y,
                "approaches": [
                    {
                        "name": a.name,
                        "bearing_deg": a.bearing_deg,
                        "link": a.link,
                        "lane_groups": [
                            {
                                "name": g.name,
                                "lanes": g.lanes,
                                "saturation_flow_vph": g.saturation_flow_vph,
                                "flow_vph": g.flow_vph,
                                "arrival_type": g.arrival_type,
                                "initial_queue_veh": g.initial_queue_veh,
                                "k": g.k,
                                "upstream_i": g.upstream_i,
                                "opposed_by": list(g.opposed_by),
                                "unopposed_saturation_flow_vph": g.unopposed_saturation_flow_vph,
                                "movements": [
                                    {
                                        "turn": m.turn,
                                        "flow_vph": m.flow_vph,
                                        "from_link": m.from_link,
                                        "to_link": m.to_link,
                                    }
                                    for m in g.movements
                                ],
                            }
                            for g in a.lane_groups
                        ],
                    }
                    for a in it.approaches
                ],
                "phases": [
                    {
                        "name": p.name,
                        "lane_groups": list(p.lane_groups),
                        "green_s": p.green_s,
                        "yellow_s": p.yellow_s,
                        "all_red_s": p.all_red_s,
                        "lost_time_s": p.lost_time_s,
                        "min_green_s": p.min_green_s,
                        "max_green_s": p.max_green_s,
                        "pedestrian": p.pedestrian,
                        "ped_min_green_s": p.ped_min_green_s,
                    }
                    for p in it.phases
                ],
            }
        )
    if feeds is not None:
        out["feeds"] = feeds.table(plan).to_dict(orient="records")
    return _clean(out)


def _get(d: Any, key: str, where: str, default: Any = ...) -> Any:
    if not isinstance(d, dict):
        raise InputError(f"{where}: expected an object", field=where)
    if key not in d:
        if default is ...:
            raise InputError(f"{where}.{key}: missing", field=f"{where}.{key}")
        return default
    return d[key]


def plan_from_dict(data: dict[str, Any]) -> tuple[SignalPlan, Feeds | None]:
    """Inverse of :func:`plan_to_dict`. Raises InputError naming the JSON path of a bad field."""
    from smartcore.signals.transyt import Feeds

    if _get(data, "format", "$", None) != FORMAT:
        raise InputError(f"$.format: not a smartcore signal plan (expected {FORMAT!r})", field="$.format")
    if _get(data, "version", "$") != 1:
        raise InputError("$.version: only version 1 is known", field="$.version")
    its = []
    for i, it in enumerate(_get(data, "intersections", "$")):
        w = f"$.intersections[{i}]"
        approaches = []
        for j, a in enumerate(_get(it, "approaches", w)):
            wa = f"{w}.approaches[{j}]"
            groups = []
            for k, g in enumerate(_get(a, "lane_groups", wa)):
                wg = f"{wa}.lane_groups[{k}]"
                moves = tuple(
                    Movement(
                        _get(m, "turn", f"{wg}.movements[{n}]"),
                        _get(m, "flow_vph", f"{wg}.movements[{n}]", 0.0),
                        m.get("from_link"),
                        m.get("to_link"),
                    )
                    for n, m in enumerate(_get(g, "movements", wg, []))
                )
                groups.append(
                    LaneGroup(
                        _get(g, "name", wg),
                        moves,
                        _get(g, "lanes", wg, 1),
                        _get(g, "saturation_flow_vph", wg),
                        g.get("flow_vph"),
                        g.get("arrival_type", 3),
                        g.get("initial_queue_veh", 0.0),
                        g.get("k", 0.5),
                        g.get("upstream_i", 1.0),
                        tuple(g.get("opposed_by", ())),
                        g.get("unopposed_saturation_flow_vph"),
                    )
                )
            approaches.append(
                Approach(_get(a, "name", wa), tuple(groups), a.get("bearing_deg"), a.get("link"))
            )
        phases = []
        for j, p in enumerate(_get(it, "phases", w)):
            wp = f"{w}.phases[{j}]"
            mx = p.get("max_green_s")
            phases.append(
                Phase(
                    _get(p, "name", wp),
                    tuple(_get(p, "lane_groups", wp, ())),
                    p.get("green_s"),
                    p.get("yellow_s", 3.0),
                    p.get("all_red_s", 2.0),
                    p.get("lost_time_s"),
                    p.get("min_green_s", 7.0),
                    math.inf if mx is None else mx,
                    bool(p.get("pedestrian", False)),
                    p.get("ped_min_green_s", 0.0),
                )
            )
        its.append(
            Intersection(
                str(_get(it, "id", w)),
                tuple(approaches),
                tuple(phases),
                it.get("offset_s", 0.0),
                it.get("cycle_min_s", 30.0),
                it.get("cycle_max_s", 120.0),
                tuple(it.get("nodes", ())),
                it.get("x"),
                it.get("y"),
            )
        )
    plan = SignalPlan(
        tuple(its), data.get("analysis_period_h", 0.25), data.get("name", ""), data.get("metadata", {})
    )
    feeds = None
    if data.get("feeds") is not None:
        feeds = Feeds.from_records(
            plan,
            [
                (
                    f["to_intersection"],
                    f["to_lane_group"],
                    f["from_intersection"],
                    f["from_lane_group"],
                    f["share"],
                    f["travel_time_s"],
                )
                for f in data["feeds"]
            ],
        )
    return plan, feeds


def write_plan(plan: SignalPlan, path: str | os.PathLike[str], feeds: Feeds | None = None) -> Path:
    """Write a plan (and feeds) as JSON, atomically."""
    from smartcore.io._common import atomic_write

    out = Path(path)
    with atomic_write(out) as fh:
        json.dump(plan_to_dict(plan, feeds), fh, indent=1)
        fh.write("\n")
    return out


def read_plan(path: str | os.PathLike[str]) -> tuple[SignalPlan, Feeds | None]:
    """Read a plan written by :func:`write_plan`; returns (plan, feeds or None).

    Raises
    ------
    FormatError
        Unreadable JSON or a bad field (the message names the file and the JSON path).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror}", path=path) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
    try:
        return plan_from_dict(data)
    except FormatError:
        raise
    except InputError as exc:
        raise FormatError(str(exc), path=path, field=exc.field) from None
