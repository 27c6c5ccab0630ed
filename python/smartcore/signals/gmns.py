"""GMNS signal tables: read and write signal plans as General Modeling Network Specification CSVs.

GMNS (zephyr-data-specs/GMNS, ``docs/spec``) describes signals with five tables, which this module
reads and writes (with ``movement.csv``, which they reference):

``signal_controller.csv``
    ``controller_id``: one controller per smartcore intersection (its id).
``signal_timing_plan.csv``
    ``timing_plan_id, controller_id, time_day, cycle_length``; written with
    ``time_day = "11111111_0000_2400"`` (every day and holidays, all day).
``signal_timing_phase.csv``
    ``timing_phase_id, timing_plan_id, signal_phase_num, min_green, max_green, extension,
    clearance, walk_time, ped_clearance, ring, barrier, position``. For a fixed-time signal
    GMNS's ``min_green`` is the green time; ``clearance`` is yellow plus all-red. smartcore
    writes its stage sequence as one ring (``ring = 1``) with one barrier per stage
    (``barrier = position = signal_phase_num``) and adds ``phase_name, yellow, red, lost_time,
    min_green_limit, max_green_limit, pedestrian`` (GMNS tables allow extra fields); a phase that
    serves pedestrians writes its pedestrian minimum green as ``walk_time`` (walk plus clearance,
    HCM 2000's ``3.2 + L / S_p``; ``ped_clearance`` left blank).
``signal_phase_mvmt.csv``
    ``signal_phase_mvmt_id, timing_phase_id, mvmt_id, link_id, protection``: the movements each
    phase serves, ``permitted`` for left turns filtering through opposing traffic
    (``LaneGroup.opposed_by``), else ``protected``.
``signal_coordination.csv``
    ``coordination_id, timing_plan_id, controller_id, coord_contr_id, coord_phase,
    coord_ref_to, offset``: smartcore's offset is the start of phase 1's green, i.e.
    ``coord_phase = 1``, ``coord_ref_to = "begin_of_green"``, against the common reference time
    (``coord_contr_id`` is the first controller).
``movement.csv``
    ``mvmt_id, node_id, ib_link_id, ob_link_id, type, capacity, ctrl_type`` with
    ``type`` one of left/thru/right/uturn and ``capacity`` the saturation flow of the movement's
    lane group (pce/h); smartcore adds ``lane_group, lanes, volume`` (veh/h), ``arrival_type``,
    ``opposed_by`` (``|``-separated) and ``unopposed_capacity``. With a network, link and node ids
    are the network's external ids; otherwise ``ib_link_id`` is the approach name and
    ``ob_link_id`` a synthetic ``<intersection>:<approach>:<k>``.

Reading (:func:`read_gmns_signals`) accepts any GMNS signal set, including dual-ring NEMA plans:
each barrier's rings run side by side, and the barrier is cut into stages wherever a phase ends in
either ring; a stage serves the movements of the phases active in every ring, and its clearance is
the clearance of the phase(s) ending with it (so a phase running on across a stage boundary keeps
its green through it). Lane groups are the ``lane_group`` column if present, else the movements
of one inbound link served by the same stages; saturation flows come from ``capacity`` (else HCM
2000's default for the lanes), flows from ``volume`` (else 0). Offsets referred to another phase or
to the start of yellow or red are converted to the start of the first stage's green.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartcore.errors import FormatError, InputError
from smartcore.signals.hcm import saturation_flow
from smartcore.signals.plan import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.network import Network

__all__ = ["write_gmns_signals", "read_gmns_signals", "SIGNAL_TABLES"]

SIGNAL_TABLES = (
    "signal_controller",
    "signal_timing_plan",
    "signal_timing_phase",
    "signal_phase_mvmt",
    "signal_coordination",
    "movement",
)
_TYPE = {"left": "left", "through": "thru", "right": "right", "uturn": "uturn"}
_TURN = {v: k for k, v in _TYPE.items()}


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return repr(float(x))  # the shortest text that reads back to the same double


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    from smartcore.io._common import atomic_write

    with atomic_write(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else v for v in row])


def _gmns_link_ids(network: Network) -> list[str]:
    """The ``link_id`` of every link as :func:`smartcore.io.write_gmns` writes it (unique link keys,
    else a unique ``link_id`` attribute, else 1..num_links)."""
    import numpy as np

    m = network.num_links
    keys = network.link_keys
    if keys is not None and len(np.unique(keys)) == m:
        return [str(v) for v in keys.tolist()]
    given = network.link_extra.get("link_id")
    if keys is None and given is not None:
        vals = [str(v) for v in np.asarray(given).tolist()]
        if len(set(vals)) == m and all(vals):
            return vals
    return [str(k) for k in range(1, m + 1)]


def write_gmns_signals(
    plan: SignalPlan,
    folder: str | os.PathLike[str],
    *,
    network: Network | None = None,
    time_day: str = "11111111_0000_2400",
) -> list[Path]:
    """Write the GMNS signal tables (and ``movement.csv``) of a plan into ``folder`` (module docs).

    Returns
    -------
    list of Path
        The files written.
    """
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: not a folder", field="folder")
    link_ids = _gmns_link_ids(network) if network is not None else None
    node_ids = network.node_ids if network is not None else None
    ctrl, plans, phases, pm, coord, moves = [], [], [], [], [], []
    first = plan.ids[0] if len(plan) else ""
    mid = 0
    for it in plan:
        tp = f"{it.id}:1"
        ctrl.append([it.id])
        plans.append([tp, it.id, time_day, _num(it.cycle_s)])
        coord.append([f"{it.id}:c", tp, it.id, first, 1, "begin_of_green", _num(it.offset_s)])
        node = str(int(node_ids[it.nodes[0]])) if node_ids is not None and it.nodes else it.id
        mv_of_group: dict[str, list[tuple[str, Movement]]] = {}
        for a in it.approaches:
            for g in a.lane_groups:
                for k, m in enumerate(g.movements):
                    mid += 1
                    ib = link_ids[m.from_link] if link_ids is not None and m.from_link is not None else a.name
                    ob = (
                        link_ids[m.to_link]
                        if link_ids is not None and m.to_link is not None
                        else f"{it.id}:{a.name}:{k}"
                    )
                    moves.append(
                        [
                            mid,
                            node,
                            ib,
                            ob,
                            _TYPE[m.turn],
                            _num(g.saturation_flow_vph),
                            "signal",
                            g.name,
                            g.lanes,
                            _num(m.flow_vph),
                            g.arrival_type,
                            "|".join(g.opposed_by),
                            _num(g.unopposed_saturation_flow_vph),
                            a.name,
                        ]
                    )
                    mv_of_group.setdefault(g.name, []).append((str(mid), m))
        for j, p in enumerate(it.phases):
            tph = f"{it.id}:{j + 1}"
            walk = _num(p.ped_min_green_s) if p.pedestrian and p.ped_min_green_s > 0 else ""
            phases.append(
                [
                    tph,
                    tp,
                    j + 1,
                    _num(p.green_s),
                    "",
                    0,
                    _num(p.yellow_s + p.all_red_s),
                    walk,
                    "",
                    1,
                    j + 1,
                    j + 1,
                    p.name,
                    _num(p.yellow_s),
                    _num(p.all_red_s),
                    _num(p.lost_time_s),
                    _num(p.min_green_s),
                    _num(p.max_green_s),
                    int(p.pedestrian),
                ]
            )
            for name in p.lane_groups:
                g = it.lane_group(name)
                for m_id, m in mv_of_group.get(name, []):
                    prot = "permitted" if g.opposed_by and m.turn == "left" else "protected"
                    pm.append([f"{tph}:{m_id}", tph, m_id, "", prot])
    files = {
        "signal_controller": (["controller_id"], ctrl),
        "signal_timing_plan": (["timing_plan_id", "controller_id", "time_day", "cycle_length"], plans),
        "signal_timing_phase": (
            [
                "timing_phase_id",
                "timing_plan_id",
                "signal_phase_num",
                "min_green",
                "max_green",
                "extension",
                "clearance",
                "walk_time",
                "ped_clearance",
                "ring",
                "barrier",
                "position",
                "phase_name",
                "yellow",
                "red",
                "lost_time",
                "min_green_limit",
                "max_green_limit",
                "pedestrian",
            ],
            phases,
        ),
        "signal_phase_mvmt": (
            ["signal_phase_mvmt_id", "timing_phase_id", "mvmt_id", "link_id", "protection"],
            pm,
        ),
        "signal_coordination": (
            [
                "coordination_id",
                "timing_plan_id",
                "controller_id",
                "coord_contr_id",
                "coord_phase",
                "coord_ref_to",
                "offset",
            ],
            coord,
        ),
        "movement": (
            [
                "mvmt_id",
                "node_id",
                "ib_link_id",
                "ob_link_id",
                "type",
                "capacity",
                "ctrl_type",
                "lane_group",
                "lanes",
                "volume",
                "arrival_type",
                "opposed_by",
                "unopposed_capacity",
                "approach",
            ],
            moves,
        ),
    }
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for name, (header, rows) in files.items():
        _write(root / f"{name}.csv", header, rows)
        out.append(root / f"{name}.csv")
    return out


# ------------------------------------------------------------------------------ reading
class _Table:
    def __init__(self, path: Path, required: tuple[str, ...]) -> None:
        self.path = path
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                self.header = [h.strip() for h in (reader.fieldnames or [])]
                self.rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror}", path=path) from None
        for col in required:
            if col not in self.header:
                raise FormatError(f"missing column {col!r}", path=path, line=1, field=col)

    def float(self, i: int, col: str, default: float | None = None) -> float:
        raw = self.rows[i].get(col, "")
        if raw in ("", "NaN"):
            if default is None:
                raise FormatError("missing value", path=self.path, line=i + 2, field=col)
            return default
        try:
            v = float(raw)
        except ValueError:
            raise FormatError(
                f"expected a number, got {raw!r}", path=self.path, line=i + 2, field=col
            ) from None
        if not math.isfinite(v) or v < 0:
            raise FormatError(
                f"expected a finite number >= 0, got {raw!r}", path=self.path, line=i + 2, field=col
            )
        return v

    def int(self, i: int, col: str, default: int | None = None) -> int:
        v = self.float(i, col, None if default is None else float(default))
        if v != int(v):
            raise FormatError(f"expected a whole number, got {v:g}", path=self.path, line=i + 2, field=col)
        return int(v)


def _stages(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Ring-barrier phases -> stages (served phase numbers, G, Y, R, lost, min, max, pedestrian,
    pedestrian minimum green). Row: (num, ring, barrier, position, green, clearance, yellow, red,
    lost, name, min limit, max limit, pedestrian, pedestrian minimum green)."""
    by_barrier: dict[int, list[Any]] = {}
    order: dict[int, int] = {}
    for r in rows:
        by_barrier.setdefault(r[2], []).append(r)
        order[r[2]] = min(order.get(r[2], r[3]), r[3])
    stages: list[tuple[Any, ...]] = []
    for b in sorted(by_barrier, key=lambda b: (order[b], b)):
        rings: dict[int, list[Any]] = {}
        for r in sorted(by_barrier[b], key=lambda r: (r[3], r[0])):
            rings.setdefault(r[1], []).append(r)
        if len(rings) == 1 and all(len(seq) == 1 for seq in rings.values()):
            (p,) = next(iter(rings.values()))  # one phase alone in its barrier: one stage, exactly
            stages.append(
                (
                    [p[0]],
                    p[4],
                    min(p[6], p[5]),
                    p[5] - min(p[6], p[5]),
                    p[8],
                    min(p[10], p[4]),
                    max(p[11], p[4]),
                    p[12],
                    min(p[13], p[4]),
                )
            )
            continue
        length = max(sum(p[4] + p[5] for p in seq) for seq in rings.values())
        timelines = {}
        for ring, seq in rings.items():
            t, spans = 0.0, []
            for k, p in enumerate(seq):
                extra = (
                    length - sum(q[4] + q[5] for q in seq) if k == len(seq) - 1 else 0.0
                )  # align to the barrier
                end = t + p[4] + extra + p[5]
                spans.append((t, end, p))
                t = end
            timelines[ring] = spans
        cuts: list[float] = []
        for end in sorted(end for spans in timelines.values() for _, end, _ in spans):
            if not cuts or end > cuts[-1] + 1e-9:
                cuts.append(end)
        start = 0.0
        for cut in cuts:
            active, ending = [], []
            for spans in timelines.values():
                for s, e, p in spans:
                    if s <= start + 1e-9 and e >= cut - 1e-9:
                        active.append(p)
                        if abs(e - cut) < 1e-9:
                            ending.append(p)
            span = cut - start
            clear = min(span, max((p[5] for p in ending), default=0.0))
            ref = max(ending, key=lambda p: p[5]) if ending else active[0]
            y = min(clear, ref[6] if ref[6] <= ref[5] else clear)
            stages.append(
                (
                    [p[0] for p in active],
                    span - clear,
                    y,
                    clear - y,
                    ref[8],
                    min(ref[10], span - clear),
                    max(ref[11], span - clear),
                    any(p[12] for p in active),
                    min(max((p[13] for p in active), default=0.0), span - clear),
                )
            )
            start = cut
    return stages


def read_gmns_signals(
    folder: str | os.PathLike[str],
    *,
    timing_plan: Mapping[str, str] | None = None,
    cycle_bounds_s: tuple[float, float] = (30.0, 120.0),
) -> SignalPlan:
    """Read GMNS signal tables (module docs) into a SignalPlan.

    Parameters
    ----------
    folder : path
        Folder with the tables of :data:`SIGNAL_TABLES` (``signal_coordination.csv`` optional).
    timing_plan : mapping controller_id -> timing_plan_id, optional
        Which plan of each controller to read (default: its first).
    cycle_bounds_s : (float, float)
        Cycle bounds of the intersections (GMNS has none).

    Raises
    ------
    FormatError
        A missing table or column, a bad value, or a reference to an unknown id (file, line, field).
    """
    root = Path(folder)
    req = {
        "signal_controller": ("controller_id",),
        "signal_timing_plan": ("timing_plan_id", "controller_id"),
        "signal_timing_phase": (
            "timing_phase_id",
            "timing_plan_id",
            "signal_phase_num",
            "ring",
            "barrier",
            "position",
        ),
        "signal_phase_mvmt": ("timing_phase_id",),
        "movement": ("mvmt_id", "ib_link_id", "type"),
    }
    t = {name: _Table(root / f"{name}.csv", cols) for name, cols in req.items()}
    coord = (
        _Table(root / "signal_coordination.csv", ("controller_id",))
        if (root / "signal_coordination.csv").exists()
        else None
    )
    mv = t["movement"]
    movements = {r["mvmt_id"]: i for i, r in enumerate(mv.rows)}
    plan_rows: dict[str, int] = {}
    for i, r in enumerate(t["signal_timing_plan"].rows):
        c = r["controller_id"]
        chosen = (timing_plan or {}).get(c)
        if (chosen is None and c not in plan_rows) or chosen == r["timing_plan_id"]:
            plan_rows[c] = i
    phases_of: dict[str, list[int]] = {}
    for i, r in enumerate(t["signal_timing_phase"].rows):
        phases_of.setdefault(r["timing_plan_id"], []).append(i)
    mvmts_of: dict[str, list[tuple[str, str]]] = {}
    for i, r in enumerate(t["signal_phase_mvmt"].rows):
        m = r.get("mvmt_id", "")
        if not m:
            continue  # a pedestrian phase entry (link_id)
        if m not in movements:
            raise FormatError(
                f"unknown mvmt_id {m!r}", path=t["signal_phase_mvmt"].path, line=i + 2, field="mvmt_id"
            )
        mvmts_of.setdefault(r["timing_phase_id"], []).append((m, r.get("protection", "")))
    intersections = []
    for crow in t["signal_controller"].rows:
        cid = crow["controller_id"]
        if cid not in plan_rows:
            continue
        tp_row = t["signal_timing_plan"].rows[plan_rows[cid]]
        tp = tp_row["timing_plan_id"]
        ph = t["signal_timing_phase"]
        rows = []
        for i in phases_of.get(tp, []):
            green = ph.float(i, "min_green")
            clear = ph.float(i, "clearance", 0.0)
            yellow = ph.float(i, "yellow", min(3.0, clear)) if "yellow" in ph.header else min(3.0, clear)
            red = ph.float(i, "red", clear - yellow) if "red" in ph.header else clear - yellow
            lost = (
                ph.float(i, "lost_time", max(0.0, yellow + red))
                if "lost_time" in ph.header
                else max(0.0, yellow + red)
            )
            mn = (
                ph.float(i, "min_green_limit", min(green, 7.0))
                if "min_green_limit" in ph.header
                else min(green, 7.0)
            )
            mx = ph.float(i, "max_green_limit", math.inf) if "max_green_limit" in ph.header else math.inf
            walk = (
                ph.float(i, "walk_time", 0.0) + ph.float(i, "ped_clearance", 0.0)
                if "walk_time" in ph.header
                else 0.0
            )
            ped = (ph.rows[i].get("pedestrian", "") in ("1", "true", "True")) or walk > 0
            rows.append(
                (
                    ph.int(i, "signal_phase_num"),
                    ph.int(i, "ring"),
                    ph.int(i, "barrier"),
                    ph.int(i, "position"),
                    green,
                    yellow + red,
                    yellow,
                    red,
                    lost,
                    ph.rows[i].get("phase_name") or "",
                    mn,
                    mx,
                    ped,
                    walk,
                )
            )
        if not rows:
            raise FormatError(
                f"timing plan {tp!r} of controller {cid!r} has no phase", path=ph.path, field="timing_plan_id"
            )
        phase_id = {ph.int(i, "signal_phase_num"): ph.rows[i]["timing_phase_id"] for i in phases_of[tp]}
        stages = _stages(rows)
        # movements served by each stage
        served: dict[str, set[int]] = {}
        protection: dict[str, str] = {}
        for k, (nums, *_rest) in enumerate(stages):
            for num in nums:
                for m, prot in mvmts_of.get(phase_id[num], []):
                    served.setdefault(m, set()).add(k)
                    protection[m] = prot or protection.get(m, "")
        groups: dict[str, dict[str, Any]] = {}
        for m, ks in served.items():
            i = movements[m]
            r = mv.rows[i]
            if r["type"] not in _TURN:
                raise FormatError(
                    f"type {r['type']!r} is not a signalised turn (left, thru, right, uturn)",
                    path=mv.path,
                    line=i + 2,
                    field="type",
                )
            name = r.get("lane_group") or f"{r['ib_link_id']}:{''.join(str(k) for k in sorted(ks))}"
            g = groups.setdefault(
                name,
                {
                    "approach": r.get("approach") or r["ib_link_id"],
                    "moves": [],
                    "stages": ks,
                    "lanes": 1,
                    "sat": None,
                    "at": 3,
                    "opp": "",
                    "unopp": None,
                    "permitted": False,
                },
            )
            g["moves"].append(
                Movement(_TURN[r["type"]], mv.float(i, "volume", 0.0) if "volume" in mv.header else 0.0)
            )
            if "lanes" in mv.header and r.get("lanes"):
                g["lanes"] = mv.int(i, "lanes")
            if r.get("capacity"):
                g["sat"] = mv.float(i, "capacity")
            if "arrival_type" in mv.header and r.get("arrival_type"):
                g["at"] = mv.int(i, "arrival_type")
            g["opp"] = r.get("opposed_by", "") or g["opp"]
            if r.get("unopposed_capacity"):
                g["unopp"] = mv.float(i, "unopposed_capacity")
        approaches: dict[str, list[LaneGroup]] = {}
        for name, g in groups.items():
            opp = tuple(o for o in g["opp"].split("|") if o in groups)
            sat = g["sat"] or saturation_flow(g["lanes"])
            approaches.setdefault(g["approach"], []).append(
                LaneGroup(
                    name,
                    tuple(g["moves"]),
                    g["lanes"],
                    sat,
                    arrival_type=g["at"],
                    opposed_by=opp,
                    unopposed_saturation_flow_vph=(g["unopp"] or sat) if opp else None,
                )
            )
        phase_objs = []
        for k, (nums, G, Y, R, lost, mn, mx, ped, ped_min) in enumerate(stages):
            names = tuple(n for n, g in groups.items() if k in g["stages"])
            label_of = {r[0]: r[9] or str(r[0]) for r in rows}
            label = "+".join(label_of[n] for n in nums)
            phase_objs.append(
                Phase(
                    label,
                    names,
                    G,
                    Y,
                    R,
                    lost,
                    mn,
                    max(mx, ped_min),
                    pedestrian=ped or not names,
                    ped_min_green_s=ped_min,
                )
            )
        # offset: smartcore's is the start of stage 0's green
        offset = 0.0
        if coord is not None:
            for i, r in enumerate(coord.rows):
                if r["controller_id"] != cid or (r.get("timing_plan_id") and r["timing_plan_id"] != tp):
                    continue
                off = coord.float(i, "offset", 0.0)
                cphase = coord.int(i, "coord_phase", rows[0][0]) if r.get("coord_phase") else rows[0][0]
                ref = r.get("coord_ref_to") or "begin_of_green"
                k = next((k for k, st in enumerate(stages) if cphase in st[0]), 0)
                start = sum(G + Y + R for _, G, Y, R, *_ in stages[:k])
                G_k = stages[k][1]
                start += {
                    "begin_of_green": 0.0,
                    "begin_of_yellow": G_k,
                    "begin_of_red": G_k + stages[k][2],
                }.get(ref, 0.0)
                offset = off - start
        cycle = sum(G + Y + R for _, G, Y, R, *_ in stages)
        if (
            tp_row.get("cycle_length")
            and abs(t["signal_timing_plan"].float(plan_rows[cid], "cycle_length") - cycle) > 0.5
        ):
            raise FormatError(
                f"cycle_length differs from the phases' sum {cycle:g} s",
                path=t["signal_timing_plan"].path,
                line=plan_rows[cid] + 2,
                field="cycle_length",
            )
        lo, hi = cycle_bounds_s
        intersections.append(
            Intersection(
                cid,
                tuple(Approach(a, tuple(gs)) for a, gs in approaches.items()),
                tuple(phase_objs),
                offset % cycle if cycle > 0 else 0.0,
                min(lo, cycle),
                max(hi, cycle),
            )
        )
    return SignalPlan(tuple(intersections), name=root.name, metadata={"source": "GMNS", "folder": str(root)})
