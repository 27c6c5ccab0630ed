// Bindings for the signal timing kernel (smartcore/signals.hpp).
//
// A plan is passed as a dict of numpy arrays named as the PlanView fields (built by
// smartcore.signals.plan.SignalPlan.arrays()); the dict keeps the arrays alive for the call.
#include "pybind.hpp"
#include "smartcore/signals.hpp"

#include <cmath>
#include <cstdint>

namespace smartcore::bind {

namespace {

using namespace smartcore::signals;

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

py::tuple timings_py(const py::dict& plan_arrays, int method, double target_x,
                     const carray<double>& fixed_cycle_s, const py::object& y_phase_in) {
    PlanArrays arrays(plan_arrays);
    const PlanView plan = arrays.view();
    const auto ni = static_cast<py::ssize_t>(plan.phase_first.empty() ? 0 : plan.phase_first.size() - 1);
    const auto np = static_cast<py::ssize_t>(plan.yellow_s.size());
    Span<const double> fixed;
    if (fixed_cycle_s.size() > 0) fixed = view(fixed_cycle_s, "fixed_cycle_s", ni);
    if (method != 0 && method != 1) raise_input("method", "must be 0 (Webster) or 1 (target v/c)");
    TimingOptions opt;
    opt.method = static_cast<CycleMethod>(method);
    opt.target_x = target_x;
    carray<double> y(np), cycle(ni), green(np), xc(ni);
    carray<std::uint32_t> status(ni);
    auto ys = view_mut(y, "y_phase");
    bool given_y = !y_phase_in.is_none();
    carray<double> y_given;
    if (given_y) {
        y_given = y_phase_in.cast<carray<double>>();
        auto src = view(y_given, "y_phase", np);
        std::copy(src.begin(), src.end(), ys.begin());
    }
    auto cs = view_mut(cycle, "cycle_s"), gs = view_mut(green, "green_s"), xs = view_mut(xc, "critical_xc");
    auto ss = view_mut(status, "status");
    {
        // The kernel reads the plan arrays (kept alive by `arrays`) and writes the outputs only.
        py::gil_scoped_release release;
        validate_plan(plan);
        if (!given_y) critical_flow_ratios(plan, ys);
        compute_timings(plan, ys, opt, fixed, cs, gs, ss, xs);
    }
    return py::make_tuple(y, cycle, green, status, xc);
}

py::dict evaluate_py(const py::dict& plan_arrays, const carray<double>& green_s, double analysis_period_h) {
    PlanArrays arrays(plan_arrays);
    const PlanView plan = arrays.view();
    const auto ni = static_cast<py::ssize_t>(plan.phase_first.empty() ? 0 : plan.phase_first.size() - 1);
    const auto ng = static_cast<py::ssize_t>(plan.flow_vph.size());
    auto green = view(green_s, "green_s", static_cast<py::ssize_t>(plan.yellow_s.size()));
    carray<double> eg(ng), cap(ng), x(ng), pf(ng), d1(ng), d2(ng), d3(ng), d(ng);
    carray<std::int8_t> los(ng), los_int(ni);
    carray<double> cycle(ni), flow(ni), delay_int(ni), xc(ni);
    Evaluation out{view_mut(eg, "eff_green_s"), view_mut(cap, "capacity_vph"), view_mut(x, "x"),
                   view_mut(pf, "pf"), view_mut(d1, "uniform_s"), view_mut(d2, "incremental_s"),
                   view_mut(d3, "initial_queue_s"), view_mut(d, "delay_s"), view_mut(los, "los"),
                   view_mut(cycle, "cycle_s"), view_mut(flow, "flow_vph"), view_mut(delay_int, "delay_s"),
                   view_mut(xc, "critical_xc"), view_mut(los_int, "los")};
    {
        py::gil_scoped_release release;
        validate_plan(plan);
        evaluate_plan(plan, green, analysis_period_h, out);
    }
    py::dict groups, inters;
    groups["eff_green_s"] = eg;
    groups["capacity_vph"] = cap;
    groups["x"] = x;
    groups["pf"] = pf;
    groups["uniform_s"] = d1;
    groups["incremental_s"] = d2;
    groups["initial_queue_s"] = d3;
    groups["delay_s"] = d;
    groups["los"] = los;
    inters["cycle_s"] = cycle;
    inters["flow_vph"] = flow;
    inters["delay_s"] = delay_int;
    inters["critical_xc"] = xc;
    inters["los"] = los_int;
    py::dict result;
    result["groups"] = groups;
    result["intersections"] = inters;
    return result;
}

py::dict lane_group_delay_py(const carray<double>& cycle_s, const carray<double>& eff_green_s,
                             const carray<double>& flow_vph, const carray<double>& sat_flow_vph,
                             const carray<std::int32_t>& arrival_type, const carray<double>& k,
                             const carray<double>& upstream_i, const carray<double>& initial_queue_veh,
                             double analysis_period_h) {
    const py::ssize_t n = cycle_s.ndim() == 1 ? cycle_s.shape(0) : -1;
    auto C = view(cycle_s, "cycle_s");
    auto g = view(eff_green_s, "eff_green_s", n);
    auto v = view(flow_vph, "flow_vph", n);
    auto s = view(sat_flow_vph, "sat_flow_vph", n);
    auto at = view(arrival_type, "arrival_type", n);
    auto kk = view(k, "k", n);
    auto ii = view(upstream_i, "upstream_i", n);
    auto qb = view(initial_queue_veh, "initial_queue_veh", n);
    carray<double> cap(n), x(n), pf(n), d1(n), d2(n), d3(n), d(n);
    carray<std::int8_t> los(n);
    auto capm = view_mut(cap, "c"), xm = view_mut(x, "x"), pfm = view_mut(pf, "pf"), d1m = view_mut(d1, "d1"),
         d2m = view_mut(d2, "d2"), d3m = view_mut(d3, "d3"), dm = view_mut(d, "d");
    auto losm = view_mut(los, "los");
    {
        py::gil_scoped_release release;
        for (std::size_t i = 0; i < C.size(); ++i) {
            if (!(v[i] >= 0.0 && std::isfinite(v[i])))
                throw InputError("flow_vph", static_cast<std::int64_t>(i),
                                 "flow_vph[" + std::to_string(i) + "]: must be a finite number >= 0");
            if (!(s[i] > 0.0 && std::isfinite(s[i])))
                throw InputError("sat_flow_vph", static_cast<std::int64_t>(i),
                                 "sat_flow_vph[" + std::to_string(i) + "]: must be a finite number > 0");
            const LaneGroupDelay r =
                hcm_lane_group_delay(C[i], g[i], v[i], s[i], at[i], kk[i], ii[i], qb[i], analysis_period_h);
            capm[i] = r.capacity_vph;
            xm[i] = r.x;
            pfm[i] = r.pf;
            d1m[i] = r.uniform_s;
            d2m[i] = r.incremental_s;
            d3m[i] = r.initial_queue_s;
            dm[i] = r.delay_s;
            losm[i] = level_of_service(r.delay_s);
        }
    }
    py::dict out;
    out["capacity_vph"] = cap;
    out["x"] = x;
    out["pf"] = pf;
    out["uniform_s"] = d1;
    out["incremental_s"] = d2;
    out["initial_queue_s"] = d3;
    out["delay_s"] = d;
    out["los"] = los;
    return out;
}

carray<std::int8_t> los_py(const carray<double>& delay_s) {
    auto d = view(delay_s, "delay_s");
    carray<std::int8_t> out(static_cast<py::ssize_t>(d.size()));
    auto o = view_mut(out, "los");
    for (std::size_t i = 0; i < d.size(); ++i) o[i] = level_of_service(d[i]);
    return out;
}

}  // namespace

void register_signals(py::module_& m) {
    m.def("signals_webster_cycle", &webster_cycle, py::arg("lost_time_s"), py::arg("flow_ratio_sum"),
          "Webster optimum cycle (1.5 L + 5) / (1 - Y) in s; inf when Y >= 1.");
    m.def("signals_cycle_for_target_vc", &cycle_for_target_vc, py::arg("lost_time_s"),
          py::arg("flow_ratio_sum"), py::arg("target_x"), "Cycle L Xc / (Xc - Y) in s; inf when Y >= Xc.");
    m.def("signals_progression_factor", &progression_factor, py::arg("arrival_type"), py::arg("g_over_c"),
          "HCM 2000 progression factor PF (Eq. 16-10).");
    m.def("signals_timings", &timings_py, py::arg("plan"), py::arg("method"), py::arg("target_x"),
          py::arg("fixed_cycle_s"), py::arg("y_phase") = py::none(),
          "Cycle and greens of every intersection -> (y_phase, cycle_s, green_s, status, critical_xc).");
    m.def("signals_evaluate", &evaluate_py, py::arg("plan"), py::arg("green_s"), py::arg("analysis_period_h"),
          "HCM 2000 control delay of every lane group and intersection -> {'groups': {...}, "
          "'intersections': {...}}.");
    m.def("signals_lane_group_delay", &lane_group_delay_py, py::arg("cycle_s"), py::arg("eff_green_s"),
          py::arg("flow_vph"), py::arg("sat_flow_vph"), py::arg("arrival_type"), py::arg("k"),
          py::arg("upstream_i"), py::arg("initial_queue_veh"), py::arg("analysis_period_h"),
          "Elementwise HCM 2000 lane-group delay terms -> dict of arrays.");
    m.def("signals_level_of_service", &los_py, py::arg("delay_s"),
          "HCM 2000 LOS codes 0..5 (A..F) by control delay; -1 for NaN.");
}

}  // namespace smartcore::bind
