// Bindings for the signal timing kernel (smartcore/signals.hpp).
//
// A plan is passed as a dict of numpy arrays named as the PlanView fields (built by
// smartcore.signals.plan.SignalPlan.arrays()); the dict keeps the arrays alive for the call.
#include "pybind.hpp"
#include "signals_plan.hpp"
#include "smartcore/signals.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace smartcore::bind {

// TRANSYT-style model and optimiser (signals_transyt.cpp).
void register_signals_transyt(py::module_& m);

namespace {

using namespace smartcore::signals;

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

// Elementwise HCM 2000 Appendix C permitted-left factors. Every input is a 1-D array of one length
// (the Python wrapper broadcasts); booleans and lane counts come as int32.
py::dict permitted_left_py(const py::dict& a) {
    auto get = [&](const char* key) -> carray<double> {
        if (!a.contains(key)) raise_input(key, "missing");
        return a[key].cast<carray<double>>();
    };
    auto geti = [&](const char* key) -> carray<std::int32_t> {
        if (!a.contains(key)) raise_input(key, "missing");
        return a[key].cast<carray<std::int32_t>>();
    };
    const carray<double> C = get("cycle_s"), G = get("green_s"), g = get("eff_green_s"),
                         go = get("opp_eff_green_s"), tl = get("lost_time_s"), vlt = get("left_flow_vph"),
                         plt = get("left_share"), vo = get("opp_flow_vph"), fluo = get("opp_lane_util"),
                         plto = get("opp_left_share"), rpo = get("opp_platoon_ratio"),
                         tc = get("critical_gap_s"), tf = get("follow_up_s"), sth = get("through_sat_flow"),
                         sneak = get("sneakers");
    const carray<std::int32_t> N = geti("lanes"), No = geti("opp_lanes"), excl = geti("exclusive");
    const py::ssize_t n = C.ndim() == 1 ? C.shape(0) : -1;
    auto vC = view(C, "cycle_s"), vG = view(G, "green_s", n), vg = view(g, "eff_green_s", n),
         vgo = view(go, "opp_eff_green_s", n), vtl = view(tl, "lost_time_s", n),
         vvlt = view(vlt, "left_flow_vph", n), vplt = view(plt, "left_share", n),
         vvo = view(vo, "opp_flow_vph", n), vfluo = view(fluo, "opp_lane_util", n),
         vplto = view(plto, "opp_left_share", n), vrpo = view(rpo, "opp_platoon_ratio", n),
         vtc = view(tc, "critical_gap_s", n), vtf = view(tf, "follow_up_s", n),
         vsth = view(sth, "through_sat_flow", n), vsn = view(sneak, "sneakers", n);
    auto vN = view(N, "lanes", n), vNo = view(No, "opp_lanes", n), vex = view(excl, "exclusive", n);
    const char* names[] = {"f_lt", "f_m", "f_min", "g_f", "g_q", "g_u", "g_diff", "e_l1", "e_l2", "p_l",
                           "left_sat_flow_vph"};
    std::vector<carray<double>> outs;
    std::vector<Span<double>> o;
    for (const char* name : names) {
        outs.emplace_back(n);
        o.push_back(view_mut(outs.back(), name));
    }
    {
        py::gil_scoped_release release;  // reads the input views, writes its own outputs only
        for (std::size_t i = 0; i < vC.size(); ++i) {
            PermittedLeftInput in;
            in.cycle_s = vC[i];
            in.green_s = vG[i];
            in.eff_green_s = vg[i];
            in.opp_eff_green_s = vgo[i];
            in.lost_time_s = vtl[i];
            in.lanes = vN[i];
            in.exclusive = vex[i] != 0;
            in.left_flow_vph = vvlt[i];
            in.left_share = vplt[i];
            in.opp_flow_vph = vvo[i];
            in.opp_lanes = vNo[i];
            in.opp_lane_util = vfluo[i];
            in.opp_left_share = vplto[i];
            in.opp_platoon_ratio = vrpo[i];
            in.critical_gap_s = vtc[i];
            in.follow_up_s = vtf[i];
            in.through_sat_flow = vsth[i];
            in.sneakers = vsn[i];
            const PermittedLeftFactor r = permitted_left_factor(in);
            const double vals[] = {r.f_lt, r.f_m, r.f_min, r.g_f, r.g_q, r.g_u, r.g_diff, r.e_l1, r.e_l2, r.p_l,
                                   r.left_sat_flow_vph};
            for (std::size_t k = 0; k < o.size(); ++k) o[k][i] = vals[k];
        }
    }
    py::dict out;
    for (std::size_t k = 0; k < outs.size(); ++k) out[names[k]] = outs[k];
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
    m.def("signals_permitted_left_factor", &permitted_left_py, py::arg("inputs"),
          "HCM 2000 Appendix C permitted left-turn factors, elementwise -> dict of arrays.");
    m.def("signals_level_of_service", &los_py, py::arg("delay_s"),
          "HCM 2000 LOS codes 0..5 (A..F) by control delay; -1 for NaN.");
    register_signals_transyt(m);
}

}  // namespace smartcore::bind
