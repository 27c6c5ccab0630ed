// Signal timing kernel: Webster cycles and splits, bounded equisaturation, HCM 2000 delay and LOS,
// against closed-form and textbook numbers.
#include <cmath>
#include <cstdint>
#include <vector>

#include "check.hpp"
#include "plan_arrays.hpp"
#include "smartcore/signals.hpp"

using namespace smartcore;
using namespace smartcore::signals;

namespace {

// An owning batch of intersections with PlanView access (test helper).
struct Batch : testing::PlanArrays {

    // Add an intersection: phases (yellow, all-red, lost, min green, max green), then lane groups
    // (flow, sat flow, served local phases).
    void add(int nphase, double Y, double R, double l, double mn, double mx, double cycle_min = 30,
             double cycle_max = 120) {
        for (int p = 0; p < nphase; ++p) {
            yellow.push_back(Y);
            all_red.push_back(R);
            lost.push_back(l);
            gmin.push_back(mn);
            gmax.push_back(mx);
        }
        phase_first.push_back(phase_first.back() + nphase);
        group_first.push_back(group_first.back());
        cmin.push_back(cycle_min);
        cmax.push_back(cycle_max);
    }
    void group(double v, double s, std::vector<int> local_phases, std::int32_t arrival = 3, double queue = 0) {
        const index_t base = phase_first[phase_first.size() - 2];
        for (int p : local_phases) serve_phase.push_back(base + p);
        serve_first.push_back(static_cast<index_t>(serve_phase.size()));
        flow.push_back(v);
        sat.push_back(s);
        at.push_back(arrival);
        k.push_back(0.5);
        I.push_back(1.0);
        qb.push_back(queue);
        group_first.back() += 1;
    }
};

struct Timings {
    std::vector<double> y, cycle, green, xc;
    std::vector<std::uint32_t> status;
};

Timings timings(const Batch& b, TimingOptions opt = {}, std::vector<double> fixed = {}) {
    const PlanView v = b.view();
    validate_plan(v);
    Timings t;
    t.y.assign(v.num_phases(), 0);
    critical_flow_ratios(v, t.y);
    t.cycle.assign(v.num_intersections(), 0);
    t.green.assign(v.num_phases(), 0);
    t.xc.assign(v.num_intersections(), 0);
    t.status.assign(v.num_intersections(), 0);
    compute_timings(v, t.y, opt, Span<const double>(fixed.data(), fixed.size()), t.cycle, t.green, t.status, t.xc);
    return t;
}

}  // namespace

TEST_CASE("Webster C0 closed forms") {
    // q = 500 and 300 pcu/h, s = 1600: y = 0.3125 + 0.1875 = 0.5; L = 16 s -> C0 = 29 / 0.5 = 58 s.
    CHECK_NEAR(webster_cycle(16.0, 500.0 / 1600 + 300.0 / 1600), 58.0, 1e-12);
    // y = 0.4 + 0.3, L = 12 s -> 23 / 0.3 = 76.67 s.
    CHECK_NEAR(webster_cycle(12.0, 0.7), 76.6667, 1e-4);
    // y = 0.37 + 0.40, L = 6 s -> 14 / 0.23 = 60.87 s.
    CHECK_NEAR(webster_cycle(6.0, 0.77), 60.8696, 1e-4);
    // three phases y = 0.208 + 0.192 + 0.200, L = 12 s -> 23 / 0.4 = 57.5 s.
    CHECK_NEAR(webster_cycle(12.0, 0.208 + 0.192 + 0.200), 57.5, 1e-9);
    CHECK(std::isinf(webster_cycle(10.0, 1.0)));
    CHECK(std::isinf(webster_cycle(10.0, 1.3)));
    // Target v/c: C = L Xc / (Xc - Y): L = 10, Y = 0.6, Xc = 0.9 -> 30 s.
    CHECK_NEAR(cycle_for_target_vc(10.0, 0.6, 0.9), 30.0, 1e-12);
    CHECK(std::isinf(cycle_for_target_vc(10.0, 0.9, 0.9)));
}

TEST_CASE("Webster splits: 58 s cycle, effective greens 26.25 and 15.75 s") {
    Batch b;
    // L = 16 s over two phases: 8 s lost each; yellow 3, all-red 2 -> G = g + 3.
    b.add(2, 3.0, 2.0, 8.0, 5.0, kInf);
    b.group(500, 1600, {0});
    b.group(300, 1600, {1});
    const Timings t = timings(b);
    CHECK_NEAR(t.cycle[0], 58.0, 1e-9);
    CHECK_NEAR(t.green[0] - 3.0, 26.25, 1e-9);  // effective = displayed + Y + R - l
    CHECK_NEAR(t.green[1] - 3.0, 15.75, 1e-9);
    CHECK(t.status[0] == kTimingOk);
    CHECK_NEAR(t.xc[0], 0.5 * 58.0 / 42.0, 1e-12);
    // The same splits from the evaluation side: effective greens of the lane groups.
    std::vector<double> eg(2);
    effective_greens(b.view(), t.green, eg);
    CHECK_NEAR(eg[0], 26.25, 1e-9);
    CHECK_NEAR(eg[1], 15.75, 1e-9);
}

TEST_CASE("three-phase Webster and lane group critical ratios") {
    Batch b;
    b.add(3, 3.0, 1.0, 4.0, 5.0, kInf);
    b.group(0.208 * 1800, 1800, {0});
    b.group(0.100 * 1800, 1800, {0});  // not critical
    b.group(0.192 * 1800, 1800, {1});
    b.group(0.200 * 1900, 1900, {2});
    b.group(0.9 * 1900, 1900, {1, 2});  // multi-phase: never critical
    const Timings t = timings(b);
    CHECK_NEAR(t.y[0], 0.208, 1e-12);
    CHECK_NEAR(t.y[1], 0.192, 1e-12);
    CHECK_NEAR(t.y[2], 0.200, 1e-12);
    CHECK_NEAR(t.cycle[0], 57.5, 1e-9);
    // effective greens (C - L) y / Y = 45.5 * y / 0.6; displayed = effective (l = Y + R)
    CHECK_NEAR(t.green[0], 45.5 * 0.208 / 0.6, 1e-9);
    CHECK_NEAR(t.green[1], 45.5 * 0.192 / 0.6, 1e-9);
    CHECK_NEAR(t.green[2], 45.5 * 0.200 / 0.6, 1e-9);
}

TEST_CASE("minimum greens: fixed at the minimum, the rest re-split") {
    Batch b;
    b.add(3, 3.0, 2.0, 5.0, 10.0, kInf);  // l = Y + R: effective green = displayed green
    b.group(0.40 * 1800, 1800, {0});
    b.group(0.02 * 1800, 1800, {1});
    b.group(0.18 * 1800, 1800, {2});
    // Fixed 90 s cycle, L = 15 -> 75 s effective green; proportional would give phase 1 only 2.5 s.
    const Timings t = timings(b, {}, {90.0});
    CHECK_NEAR(t.cycle[0], 90.0, 1e-12);
    CHECK_NEAR(t.green[1], 10.0, 1e-9);
    CHECK_NEAR(t.green[0], 65.0 * 0.40 / 0.58, 1e-9);
    CHECK_NEAR(t.green[2], 65.0 * 0.18 / 0.58, 1e-9);
    CHECK(t.status[0] == kTimingOk);
}

TEST_CASE("maximum greens cap the cycle, minimum greens raise it") {
    Batch b;
    b.add(2, 3.0, 2.0, 5.0, 7.0, 30.0, 30, 120);
    b.group(0.45 * 1800, 1800, {0});
    b.group(0.40 * 1800, 1800, {1});
    // Webster: (15 + 5) / 0.15 = 133 s -> capped at 120, then at sum(max 30 + 5) = 70 s.
    Timings t = timings(b);
    CHECK_NEAR(t.cycle[0], 70.0, 1e-9);
    CHECK((t.status[0] & kCycleAtMax) != 0);
    CHECK((t.status[0] & kCycleForMaxGreens) != 0);
    CHECK((t.status[0] & kOversaturated) == 0);  // Xc = 0.85 * 70 / 60 = 0.992
    CHECK_NEAR(t.xc[0], 0.85 * 70.0 / 60.0, 1e-12);
    CHECK_NEAR(t.green[0], 30.0, 1e-9);
    CHECK_NEAR(t.green[1], 30.0, 1e-9);

    Batch m;
    m.add(4, 3.0, 2.0, 5.0, 20.0, kInf, 30, 120);  // 4 x (20 + 5) = 100 s of minimum cycle
    for (int p = 0; p < 4; ++p) m.group(100, 1800, {p});
    t = timings(m);
    CHECK_NEAR(t.cycle[0], 100.0, 1e-9);
    CHECK((t.status[0] & kCycleForMinGreens) != 0);
    for (int p = 0; p < 4; ++p) CHECK_NEAR(t.green[p], 20.0, 1e-9);
}

TEST_CASE("Y >= 1: capped cycle and oversaturation flag, never infinity") {
    Batch b;
    b.add(2, 3.0, 2.0, 5.0, 7.0, kInf, 30, 150);
    b.group(0.6 * 1800, 1800, {0});
    b.group(0.5 * 1800, 1800, {1});
    Timings t = timings(b);
    CHECK_NEAR(t.cycle[0], 150.0, 1e-12);
    CHECK((t.status[0] & kOversaturated) != 0);
    CHECK((t.status[0] & kCycleAtMax) != 0);
    CHECK(std::isfinite(t.green[0]) && std::isfinite(t.green[1]));
    CHECK_NEAR(t.green[0] + t.green[1] + 10.0, 150.0, 1e-9);
    CHECK_NEAR(t.green[0] / t.green[1], 0.6 / 0.5, 1e-9);
    // target v/c unreachable
    TimingOptions opt;
    opt.method = CycleMethod::kTargetVc;
    opt.target_x = 0.9;
    t = timings(b, opt);
    CHECK((t.status[0] & kTargetUnreachable) != 0);
    CHECK_NEAR(t.cycle[0], 150.0, 1e-12);
}

TEST_CASE("cycle for a target v/c reaches that v/c") {
    Batch b;
    b.add(2, 3.0, 2.0, 5.0, 5.0, kInf, 20, 200);
    b.group(0.35 * 1800, 1800, {0});
    b.group(0.25 * 1800, 1800, {1});
    TimingOptions opt;
    opt.method = CycleMethod::kTargetVc;
    opt.target_x = 0.85;
    const Timings t = timings(b, opt);
    CHECK_NEAR(t.cycle[0], 10.0 * 0.85 / 0.25, 1e-9);
    CHECK_NEAR(t.xc[0], 0.85, 1e-12);
}

TEST_CASE("HCM 2000 uniform delay: s = 2650, g/C = 0.55, C = 102 s, v = 1700") {
    const LaneGroupDelay d = hcm_lane_group_delay(102.0, 0.55 * 102.0, 1700.0, 2650.0, 3, 0.5, 1.0, 0.0, 0.25);
    CHECK_NEAR(d.capacity_vph, 1457.5, 1e-9);
    CHECK_NEAR(d.x, 1.1664, 5e-5);
    CHECK_NEAR(d.uniform_s, 22.95, 1e-9);  // X > 1 is capped at 1 in d1
    CHECK_NEAR(d.pf, 1.0, 1e-12);
    // d2 by hand: 225 [0.16638 + sqrt(0.16638^2 + 4 * 1.16638 / 364.375)]
    const double X = 1700.0 / 1457.5;
    CHECK_NEAR(d.incremental_s, 225.0 * ((X - 1) + std::sqrt((X - 1) * (X - 1) + 4.0 * X / 364.375)), 1e-9);
    CHECK_NEAR(d.delay_s, d.uniform_s + d.incremental_s, 1e-12);
}

TEST_CASE("HCM 2000 incremental delay at X = 1 and initial-queue delay") {
    // c = 1000 veh/h (s = 2000, g/C = 0.5), v = 1000, T = 0.25, k = 0.5, I = 1:
    // d2 = 225 sqrt(8 * 0.5 / 250) = 28.4605 s.
    LaneGroupDelay d = hcm_lane_group_delay(100.0, 50.0, 1000.0, 2000.0, 3, 0.5, 1.0, 0.0, 0.25);
    CHECK_NEAR(d.incremental_s, 28.46050, 1e-5);
    CHECK_NEAR(d.uniform_s, 25.0, 1e-12);  // 0.5 * 100 * 0.25 / 0.5
    // Qb = 10 veh, v = 500: t = 10 / (1000 * 0.5) = 0.02 h < T, u = 0,
    // d3 = 1800 * 10 * 0.02 / (1000 * 0.25) = 1.44 s.
    d = hcm_lane_group_delay(100.0, 50.0, 500.0, 2000.0, 3, 0.5, 1.0, 10.0, 0.25);
    CHECK_NEAR(d.initial_queue_s, 1.44, 1e-12);
    // uniform term: ds t/T + du (T - t)/T with ds = 25, du = 0.5*100*0.25/(1 - 0.25) = 16.667
    CHECK_NEAR(d.uniform_s, 25.0 * 0.08 + (12.5 / 0.75) * 0.92, 1e-9);
    // Oversaturated with a queue: t = T, u = 1 - cT(1 - min(1,X))/Qb = 1 -> d3 = 1800 * 10 * 2 * 0.25 / 250
    d = hcm_lane_group_delay(100.0, 50.0, 1200.0, 2000.0, 3, 0.5, 1.0, 10.0, 0.25);
    CHECK_NEAR(d.initial_queue_s, 36.0, 1e-9);
    CHECK_NEAR(d.uniform_s, 25.0, 1e-12);
}

TEST_CASE("progression factor, HCM 2000 Exhibit 16-11/16-12") {
    // AT 3: PF = 1. AT 5, g/C = 0.5: P = min(1, 1.667 * 0.5) = 0.8335, PF = 0.1665 / 0.5 = 0.333.
    CHECK_NEAR(progression_factor(3, 0.4), 1.0, 1e-12);
    CHECK_NEAR(progression_factor(5, 0.5), (1 - 1.667 * 0.5) / 0.5, 1e-12);
    // AT 1, g/C = 0.5: (1 - 0.1665) * 1.0 / 0.5 = 1.667 (not capped: AT < 3).
    CHECK_NEAR(progression_factor(1, 0.5), 1.667, 1e-12);
    // AT 4 at small g/C exceeds 1 by the formula and is capped: (1 - 0.2666) * 1.15 / 0.8 = 1.054.
    CHECK_NEAR(progression_factor(4, 0.2), 1.0, 1e-12);
    CHECK_NEAR(progression_factor(6, 0.6), 0.0, 1e-12);  // P = min(1, 1.2) = 1
    CHECK_THROWS(progression_factor(7, 0.5), InputError);
}

TEST_CASE("LOS boundaries at 10/20/35/55/80 s (HCM 2000 Exhibit 16-2)") {
    CHECK(level_of_service(0.0) == 0);
    CHECK(level_of_service(10.0) == 0);
    CHECK(level_of_service(10.0001) == 1);
    CHECK(level_of_service(20.0) == 1);
    CHECK(level_of_service(20.0001) == 2);
    CHECK(level_of_service(35.0) == 2);
    CHECK(level_of_service(35.0001) == 3);
    CHECK(level_of_service(55.0) == 3);
    CHECK(level_of_service(55.0001) == 4);
    CHECK(level_of_service(80.0) == 4);
    CHECK(level_of_service(80.0001) == 5);
    CHECK(level_of_service(std::nan("")) == -1);
}

TEST_CASE("effective green of lane groups over runs of phases") {
    Batch b;
    b.add(3, 3.0, 2.0, 4.0, 5.0, kInf);
    b.group(100, 1800, {0, 1});  // run 0-1: G0+5+G1+5 - l1
    b.group(100, 1800, {2, 0});  // wraps: given sorted as {0, 2} -> run 2-0
    b.group(100, 1800, {0, 1, 2});  // always green
    // serve lists must be sorted: fix the second group's order
    b.serve_phase[2] = 0;
    b.serve_phase[3] = 2;
    const std::vector<double> green{20.0, 10.0, 30.0};
    std::vector<double> eg(3);
    validate_plan(b.view());
    effective_greens(b.view(), green, eg);
    CHECK_NEAR(eg[0], 20 + 5 + 10 + 5 - 4, 1e-12);
    CHECK_NEAR(eg[1], 30 + 5 + 20 + 5 - 4, 1e-12);
    CHECK_NEAR(eg[2], 75.0, 1e-12);
}

TEST_CASE("evaluate_plan: intersection delay is flow-weighted, LOS, Xc") {
    Batch b;
    b.add(2, 3.0, 2.0, 5.0, 5.0, kInf);
    b.group(600, 1800, {0});
    b.group(200, 1800, {1});
    b.add(2, 3.0, 2.0, 5.0, 5.0, kInf);
    b.group(0, 1800, {0});
    b.group(0, 1800, {1});
    const std::vector<double> green{40.0, 20.0, 25.0, 25.0};
    const std::size_t ng = 4, ni = 2;
    std::vector<double> eg(ng), cap(ng), x(ng), pf(ng), d1(ng), d2(ng), d3(ng), d(ng), C(ni), f(ni), di(ni), xc(ni);
    std::vector<std::int8_t> los(ng), losi(ni);
    Evaluation out{eg, cap, x, pf, d1, d2, d3, d, los, C, f, di, xc, losi};
    evaluate_plan(b.view(), green, 0.25, out);
    CHECK_NEAR(C[0], 70.0, 1e-12);
    CHECK_NEAR(cap[0], 1800.0 * 40.0 / 70.0, 1e-9);
    const LaneGroupDelay a = hcm_lane_group_delay(70.0, 40.0, 600.0, 1800.0, 3, 0.5, 1.0, 0.0, 0.25);
    const LaneGroupDelay c = hcm_lane_group_delay(70.0, 20.0, 200.0, 1800.0, 3, 0.5, 1.0, 0.0, 0.25);
    CHECK_NEAR(d[0], a.delay_s, 1e-12);
    CHECK_NEAR(di[0], (600 * a.delay_s + 200 * c.delay_s) / 800.0, 1e-12);
    CHECK(losi[0] == level_of_service(di[0]));
    CHECK_NEAR(xc[0], (600.0 / 1800 + 200.0 / 1800) * 70.0 / 60.0, 1e-12);
    CHECK(std::isnan(di[1]));
    CHECK(losi[1] == -1);
    CHECK_NEAR(d2[2], 0.0, 1e-12);  // no flow: no incremental delay
}

TEST_CASE("bad input is rejected with the field named") {
    Batch b;
    b.add(2, 3.0, 2.0, 5.0, 7.0, kInf);
    b.group(500, 1600, {0});
    b.group(300, 1600, {1});
    {
        Batch bad = b;
        bad.sat[0] = 0.0;
        bool ok = false;
        try {
            validate_plan(bad.view());
        } catch (const InputError& e) {
            ok = e.field() == "sat_flow_vph" && e.index() == 0;
        }
        CHECK(ok);
    }
    {
        Batch bad = b;
        bad.flow[1] = -5.0;
        CHECK_THROWS(validate_plan(bad.view()), InputError);
    }
    {
        Batch bad = b;
        bad.flow[1] = std::nan("");
        CHECK_THROWS(validate_plan(bad.view()), InputError);
    }
    {
        Batch bad = b;  // a lane group served by no phase
        bad.serve_first[2] = bad.serve_first[1];
        bad.serve_phase.pop_back();
        CHECK_THROWS(validate_plan(bad.view()), InputError);
    }
    {
        Batch bad = b;  // a phase of another intersection
        bad.serve_phase[1] = 7;
        CHECK_THROWS(validate_plan(bad.view()), InputError);
    }
    {
        Batch bad = b;
        bad.gmax[0] = 3.0;  // below the minimum green
        CHECK_THROWS(validate_plan(bad.view()), InputError);
    }
    {
        Batch bad = b;
        bad.at[0] = 0;
        CHECK_THROWS(validate_plan(bad.view()), InputError);
    }
    CHECK_THROWS(hcm_lane_group_delay(100.0, 0.0, 100.0, 1800.0, 3, 0.5, 1.0, 0.0, 0.25), InputError);
    // fixed cycle shorter than the lost time
    CHECK_THROWS(timings(b, {}, {8.0}), InputError);
}

TEST_CASE("HCM 2000 Appendix C permitted left: single lane opposed by a single lane, by hand") {
    PermittedLeftInput in;
    in.cycle_s = 90.0;
    in.green_s = in.eff_green_s = in.opp_eff_green_s = 40.0;
    in.lost_time_s = 4.0;
    in.left_flow_vph = 100.0;
    in.left_share = 0.2;
    in.opp_flow_vph = 500.0;
    in.opp_left_share = 0.1;
    const PermittedLeftFactor r = permitted_left_factor(in);
    const double ltc = 100.0 * 90.0 / 3600.0;
    const double g_f = 40.0 * std::exp(-0.860 * std::pow(ltc, 0.629)) - 4.0;
    const double volc = 500.0 * 90.0 / 3600.0, qro = 1.0 - 40.0 / 90.0;
    const double g_q = 4.943 * std::pow(volc, 0.762) * std::pow(qro, 1.061) - 4.0;
    const double s_lt = 500.0 * std::exp(-500.0 * 4.5 / 3600.0) / (1.0 - std::exp(-500.0 * 2.5 / 3600.0));
    const double e_l1 = 1900.0 / s_lt, e_l2 = (1.0 - std::pow(0.9, (g_q - g_f) / 2.0)) / 0.1;
    const double f_m = g_f / 40.0 + (g_q - g_f) / 40.0 / (1.0 + 0.2 * (e_l2 - 1.0)) +
                       (40.0 - g_q) / 40.0 / (1.0 + 0.2 * (e_l1 - 1.0));
    CHECK_NEAR(r.g_f, g_f, 1e-12);
    CHECK_NEAR(r.g_q, g_q, 1e-12);
    CHECK_NEAR(r.e_l1, e_l1, 1e-12);
    CHECK_NEAR(r.e_l2, e_l2, 1e-12);
    CHECK_NEAR(r.f_lt, f_m, 1e-12);
    in.left_flow_vph = 0.0;
    CHECK_NEAR(permitted_left_factor(in).f_lt, 1.0, 0.0);
    in.eff_green_s = 0.0;
    CHECK_THROWS(permitted_left_factor(in), InputError);
}

CHECK_MAIN()
