// Internal to the signal bindings: a plan passed from Python as a dict of numpy arrays (named as
// the PlanView fields, built by smartcore.signals.plan.SignalPlan.arrays()), checked for dtype,
// layout and presence, and viewed as a PlanView. The PlanArrays object keeps the arrays alive.
#pragma once

#include <string>

#include "pybind.hpp"
#include "smartcore/signals.hpp"

namespace smartcore::bind {

using smartcore::signals::PlanView;

// Arrays of a plan dict, checked for dtype and dimension (carray's cast rejects wrong dtypes).
struct PlanArrays {
    carray<index_t> phase_first, group_first, serve_first, serve_phase;
    carray<double> yellow_s, all_red_s, lost_s, min_green_s, max_green_s, cycle_min_s, cycle_max_s;
    carray<double> flow_vph, sat_flow_vph, k, upstream_i, initial_queue_veh;
    carray<std::int32_t> arrival_type;

    template <class T>
    static carray<T> get(const py::dict& d, const char* key) {
        if (!d.contains(key)) raise_input(key, "missing from the plan arrays");
        py::object o = d[key];
        if (!py::isinstance<carray<T>>(o) ||
            !py::array(o).dtype().is(py::dtype::of<T>()) ||
            !(py::array(o).flags() & py::array::c_style))
            raise_input(key, std::string("expected a C-contiguous numpy array of ") +
                                 py::str(py::dtype::of<T>()).cast<std::string>());
        return o.cast<carray<T>>();
    }

    explicit PlanArrays(const py::dict& d)
        : phase_first(get<index_t>(d, "phase_first")),
          group_first(get<index_t>(d, "group_first")),
          serve_first(get<index_t>(d, "serve_first")),
          serve_phase(get<index_t>(d, "serve_phase")),
          yellow_s(get<double>(d, "yellow_s")),
          all_red_s(get<double>(d, "all_red_s")),
          lost_s(get<double>(d, "lost_s")),
          min_green_s(get<double>(d, "min_green_s")),
          max_green_s(get<double>(d, "max_green_s")),
          cycle_min_s(get<double>(d, "cycle_min_s")),
          cycle_max_s(get<double>(d, "cycle_max_s")),
          flow_vph(get<double>(d, "flow_vph")),
          sat_flow_vph(get<double>(d, "sat_flow_vph")),
          k(get<double>(d, "k")),
          upstream_i(get<double>(d, "upstream_i")),
          initial_queue_veh(get<double>(d, "initial_queue_veh")),
          arrival_type(get<std::int32_t>(d, "arrival_type")) {}

    PlanView view() const {
        PlanView v;
        v.phase_first = bind::view(phase_first, "phase_first");
        v.group_first = bind::view(group_first, "group_first");
        v.serve_first = bind::view(serve_first, "serve_first");
        v.serve_phase = bind::view(serve_phase, "serve_phase");
        v.yellow_s = bind::view(yellow_s, "yellow_s");
        v.all_red_s = bind::view(all_red_s, "all_red_s");
        v.lost_s = bind::view(lost_s, "lost_s");
        v.min_green_s = bind::view(min_green_s, "min_green_s");
        v.max_green_s = bind::view(max_green_s, "max_green_s");
        v.cycle_min_s = bind::view(cycle_min_s, "cycle_min_s");
        v.cycle_max_s = bind::view(cycle_max_s, "cycle_max_s");
        v.flow_vph = bind::view(flow_vph, "flow_vph");
        v.sat_flow_vph = bind::view(sat_flow_vph, "sat_flow_vph");
        v.k = bind::view(k, "k");
        v.upstream_i = bind::view(upstream_i, "upstream_i");
        v.initial_queue_veh = bind::view(initial_queue_veh, "initial_queue_veh");
        v.arrival_type = bind::view(arrival_type, "arrival_type");
        return v;
    }
};

}  // namespace smartcore::bind
