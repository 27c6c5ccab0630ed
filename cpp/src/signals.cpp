// Signal timing kernel: Webster cycles, bounded equisaturation splits, HCM 2000 control delay.
// See smartcore/signals.hpp for the data layout, units and the literature.
#include "smartcore/signals.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace smartcore::signals {

namespace {

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0.0; }

[[noreturn]] void fail(const char* field, std::size_t index, const std::string& msg) {
    throw InputError(field, static_cast<std::int64_t>(index),
                     std::string(field) + "[" + std::to_string(index) + "]: " + msg);
}

void check_csr(Span<const index_t> first, std::size_t items, const char* field) {
    if (first.empty()) fail(field, 0, "offsets array is empty (expected n + 1 entries)");
    if (first[0] != 0) fail(field, 0, "must start at 0");
    for (std::size_t i = 1; i < first.size(); ++i)
        if (first[i] < first[i - 1]) fail(field, i, "offsets must be non-decreasing");
    if (static_cast<std::size_t>(first[first.size() - 1]) != items)
        fail(field, first.size() - 1,
             "last offset " + std::to_string(first[first.size() - 1]) + " != " + std::to_string(items));
}

// HCM 2000 Exhibit 16-11: platoon ratio R_p and supplemental adjustment f_PA by arrival type.
constexpr double kPlatoonRatio[6] = {0.333, 0.667, 1.000, 1.333, 1.667, 2.000};
constexpr double kFpa[6] = {1.00, 0.93, 1.00, 1.15, 1.00, 1.00};

// Effective green of lane group g given displayed greens (see header: runs of consecutive phases).
double group_eff_green(const PlanView& plan, Span<const double> green_s, std::size_t g, index_t p0,
                       index_t p1) {
    const index_t a = plan.serve_first[g], b = plan.serve_first[g + 1];
    const index_t n = p1 - p0;
    // Served phases are strictly increasing (validated), so membership of the cyclic successor is a
    // look at the next entry, or at the first one for the last phase of the cycle.
    double sum = 0.0;
    for (index_t k = a; k < b; ++k) {
        const index_t p = plan.serve_phase[k];
        sum += green_s[p] + plan.yellow_s[p] + plan.all_red_s[p];
        const index_t next = p0 + (p - p0 + 1) % n;
        const bool next_served = k + 1 < b ? plan.serve_phase[k + 1] == next : plan.serve_phase[a] == next;
        if (!next_served) sum -= plan.lost_s[p];
    }
    return sum;
}

// Solve sum_p clamp(lambda w_p, lo_p, hi_p) = target for lambda (w_p > 0), with phases of w_p = 0
// held at lo_p. Returns false when even lambda -> infinity cannot reach the target (all capped).
bool water_fill(const std::vector<double>& w, const std::vector<double>& lo,
                const std::vector<double>& hi, double target, std::vector<double>& out) {
    const std::size_t n = w.size();
    auto fill = [&](double lam) {
        double s = 0.0;
        for (std::size_t p = 0; p < n; ++p)
            s += w[p] > 0.0 ? std::clamp(lam * w[p], lo[p], hi[p]) : lo[p];
        return s;
    };
    std::vector<double> bps;
    bps.reserve(2 * n);
    for (std::size_t p = 0; p < n; ++p) {
        if (w[p] <= 0.0) continue;
        bps.push_back(lo[p] / w[p]);
        if (std::isfinite(hi[p])) bps.push_back(hi[p] / w[p]);
    }
    std::sort(bps.begin(), bps.end());
    double lam = 0.0;
    bool found = false;
    for (std::size_t k = 0; k < bps.size(); ++k) {
        const double fk = fill(bps[k]);
        if (fk >= target) {
            if (k == 0) {
                lam = bps[0];
            } else {
                const double fprev = fill(bps[k - 1]);
                const double span = fk - fprev;
                lam = span > 0.0 ? bps[k - 1] + (target - fprev) / span * (bps[k] - bps[k - 1]) : bps[k];
            }
            found = true;
            break;
        }
    }
    if (!found) {
        // Beyond the last breakpoint only phases without a maximum still grow.
        double slope = 0.0;
        for (std::size_t p = 0; p < n; ++p)
            if (w[p] > 0.0 && !std::isfinite(hi[p])) slope += w[p];
        const double last = bps.empty() ? 0.0 : bps.back();
        if (slope <= 0.0) {
            for (std::size_t p = 0; p < n; ++p) out[p] = w[p] > 0.0 ? hi[p] : lo[p];
            return false;
        }
        lam = last + (target - fill(last)) / slope;
    }
    for (std::size_t p = 0; p < n; ++p) out[p] = w[p] > 0.0 ? std::clamp(lam * w[p], lo[p], hi[p]) : lo[p];
    return true;
}

}  // namespace

double webster_cycle(double lost_time_s, double flow_ratio_sum) {
    if (!(flow_ratio_sum < 1.0)) return kInf;
    return (1.5 * lost_time_s + 5.0) / (1.0 - flow_ratio_sum);
}

double cycle_for_target_vc(double lost_time_s, double flow_ratio_sum, double target_x) {
    if (!(flow_ratio_sum < target_x)) return kInf;
    return lost_time_s * target_x / (target_x - flow_ratio_sum);
}

void validate_plan(const PlanView& plan) {
    const std::size_t ni = plan.num_intersections(), np = plan.num_phases(), ng = plan.num_groups();
    check_csr(plan.phase_first, np, "phase_first");
    check_csr(plan.group_first, ng, "group_first");
    if (plan.group_first.size() != ni + 1) fail("group_first", 0, "expected one entry per intersection + 1");
    check_csr(plan.serve_first, plan.serve_phase.size(), "serve_first");
    if (plan.serve_first.size() != ng + 1) fail("serve_first", 0, "expected one entry per lane group + 1");
    auto same = [](std::size_t have, std::size_t want, const char* field) {
        if (have != want)
            fail(field, 0, "expected length " + std::to_string(want) + ", got " + std::to_string(have));
    };
    same(plan.all_red_s.size(), np, "all_red_s");
    same(plan.lost_s.size(), np, "lost_s");
    same(plan.min_green_s.size(), np, "min_green_s");
    same(plan.max_green_s.size(), np, "max_green_s");
    same(plan.cycle_min_s.size(), ni, "cycle_min_s");
    same(plan.cycle_max_s.size(), ni, "cycle_max_s");
    same(plan.sat_flow_vph.size(), ng, "sat_flow_vph");
    same(plan.arrival_type.size(), ng, "arrival_type");
    same(plan.k.size(), ng, "k");
    same(plan.upstream_i.size(), ng, "upstream_i");
    same(plan.initial_queue_veh.size(), ng, "initial_queue_veh");
    for (std::size_t p = 0; p < np; ++p) {
        if (!finite_nonneg(plan.yellow_s[p])) fail("yellow_s", p, "must be a finite number >= 0");
        if (!finite_nonneg(plan.all_red_s[p])) fail("all_red_s", p, "must be a finite number >= 0");
        if (!finite_nonneg(plan.lost_s[p])) fail("lost_s", p, "must be a finite number >= 0");
        if (!finite_nonneg(plan.min_green_s[p])) fail("min_green_s", p, "must be a finite number >= 0");
        if (!(plan.max_green_s[p] >= plan.min_green_s[p]))
            fail("max_green_s", p, "must be >= the minimum green");
    }
    for (std::size_t i = 0; i < ni; ++i) {
        if (plan.phase_first[i + 1] == plan.phase_first[i]) fail("phase_first", i, "intersection has no phase");
        const double lo = plan.cycle_min_s[i], hi = plan.cycle_max_s[i];
        if (!(std::isfinite(lo) && lo > 0.0)) fail("cycle_min_s", i, "must be a finite number > 0");
        if (!(std::isfinite(hi) && hi >= lo)) fail("cycle_max_s", i, "must be finite and >= cycle_min_s");
        for (index_t g = plan.group_first[i]; g < plan.group_first[i + 1]; ++g) {
            const auto gi = static_cast<std::size_t>(g);
            const index_t a = plan.serve_first[gi], b = plan.serve_first[gi + 1];
            if (a == b) fail("serve_first", gi, "lane group is served by no phase");
            for (index_t k = a; k < b; ++k) {
                const index_t p = plan.serve_phase[static_cast<std::size_t>(k)];
                if (p < plan.phase_first[i] || p >= plan.phase_first[i + 1])
                    fail("serve_phase", static_cast<std::size_t>(k),
                         "phase " + std::to_string(p) + " is not a phase of the lane group's intersection");
                if (k > a && p <= plan.serve_phase[static_cast<std::size_t>(k - 1)])
                    fail("serve_phase", static_cast<std::size_t>(k), "phases of a lane group must be strictly increasing");
            }
        }
    }
    for (std::size_t g = 0; g < ng; ++g) {
        if (!finite_nonneg(plan.flow_vph[g])) fail("flow_vph", g, "must be a finite number >= 0");
        if (!(std::isfinite(plan.sat_flow_vph[g]) && plan.sat_flow_vph[g] > 0.0))
            fail("sat_flow_vph", g, "must be a finite number > 0");
        if (plan.arrival_type[g] < 1 || plan.arrival_type[g] > 6) fail("arrival_type", g, "must be 1..6");
        if (!finite_nonneg(plan.k[g])) fail("k", g, "must be a finite number >= 0");
        if (!finite_nonneg(plan.upstream_i[g])) fail("upstream_i", g, "must be a finite number >= 0");
        if (!finite_nonneg(plan.initial_queue_veh[g])) fail("initial_queue_veh", g, "must be a finite number >= 0");
    }
}

void critical_flow_ratios(const PlanView& plan, Span<double> y_phase) {
    if (y_phase.size() != plan.num_phases()) fail("y_phase", 0, "expected one entry per phase");
    std::fill(y_phase.begin(), y_phase.end(), 0.0);
    for (std::size_t g = 0; g < plan.num_groups(); ++g) {
        const index_t a = plan.serve_first[g], b = plan.serve_first[g + 1];
        if (b - a != 1) continue;
        const auto p = static_cast<std::size_t>(plan.serve_phase[static_cast<std::size_t>(a)]);
        y_phase[p] = std::max(y_phase[p], plan.flow_vph[g] / plan.sat_flow_vph[g]);
    }
}

void compute_timings(const PlanView& plan, Span<const double> y_phase, const TimingOptions& options,
                     Span<const double> fixed_cycle_s, Span<double> cycle_s, Span<double> green_s,
                     Span<std::uint32_t> status, Span<double> critical_xc) {
    const std::size_t ni = plan.num_intersections(), np = plan.num_phases();
    if (y_phase.size() != np) fail("y_phase", 0, "expected one entry per phase");
    if (green_s.size() != np) fail("green_s", 0, "expected one entry per phase");
    if (cycle_s.size() != ni) fail("cycle_s", 0, "expected one entry per intersection");
    if (status.size() != ni) fail("status", 0, "expected one entry per intersection");
    if (critical_xc.size() != ni) fail("critical_xc", 0, "expected one entry per intersection");
    if (!fixed_cycle_s.empty() && fixed_cycle_s.size() != ni)
        fail("fixed_cycle_s", 0, "expected one entry per intersection (or none)");
    if (options.method == CycleMethod::kTargetVc && !(options.target_x > 0.0 && std::isfinite(options.target_x)))
        fail("target_x", 0, "must be a finite number > 0");
    for (std::size_t p = 0; p < np; ++p)
        if (!finite_nonneg(y_phase[p])) fail("y_phase", p, "must be a finite number >= 0");

    std::vector<double> w, lo, hi, g;
    for (std::size_t i = 0; i < ni; ++i) {
        const index_t p0 = plan.phase_first[i], p1 = plan.phase_first[i + 1];
        const auto n = static_cast<std::size_t>(p1 - p0);
        w.assign(n, 0.0);
        lo.assign(n, 0.0);
        hi.assign(n, 0.0);
        g.assign(n, 0.0);
        double L = 0.0, Y = 0.0, lo_sum = 0.0, hi_sum = 0.0;
        for (std::size_t j = 0; j < n; ++j) {
            const auto p = static_cast<std::size_t>(p0) + j;
            const double inter = plan.yellow_s[p] + plan.all_red_s[p] - plan.lost_s[p];
            L += plan.lost_s[p];
            Y += y_phase[p];
            w[j] = y_phase[p];
            lo[j] = plan.min_green_s[p] + inter;  // bounds on the effective green
            hi[j] = plan.max_green_s[p] + inter;
            lo_sum += lo[j];
            hi_sum += hi[j];
        }
        if (Y <= 0.0) std::fill(w.begin(), w.end(), 1.0);  // no demand: share equally
        std::uint32_t st = kTimingOk;
        double C;
        const bool fixed = !fixed_cycle_s.empty() && std::isfinite(fixed_cycle_s[i]);
        if (fixed) {
            C = fixed_cycle_s[i];
            if (!(C > L)) fail("fixed_cycle_s", i, "cycle must exceed the total lost time " + std::to_string(L) + " s");
        } else {
            const double cmin = plan.cycle_min_s[i], cmax = plan.cycle_max_s[i];
            const double c0 = options.method == CycleMethod::kWebster ? webster_cycle(L, Y)
                                                                       : cycle_for_target_vc(L, Y, options.target_x);
            if (!std::isfinite(c0)) {
                C = cmax;
                st |= kCycleAtMax | kOversaturated;
                if (options.method == CycleMethod::kTargetVc) st |= kTargetUnreachable;
            } else if (c0 > cmax) {
                C = cmax;
                st |= kCycleAtMax;
            } else if (c0 < cmin) {
                C = cmin;
                st |= kCycleAtMin;
            } else {
                C = c0;
            }
            const double c_max_greens = hi_sum + L, c_min_greens = lo_sum + L;
            if (C > c_max_greens) {
                C = c_max_greens;
                st |= kCycleForMaxGreens;
            }
            if (C < c_min_greens) {
                C = c_min_greens;
                st |= kCycleForMinGreens;
            }
            if (!(C > L)) C = L + 1.0;  // degenerate: all minimum greens zero and no lost time
        }
        const double E = C - L;  // total effective green
        if (E < lo_sum - 1e-9) {
            // Fixed cycle too short for the minimum greens: scale the minimum effective greens.
            st |= kMinGreenViolated;
            const double scale = lo_sum > 0.0 ? E / lo_sum : 0.0;
            for (std::size_t j = 0; j < n; ++j) g[j] = lo_sum > 0.0 ? lo[j] * scale : E / static_cast<double>(n);
        } else if (!water_fill(w, lo, hi, E, g)) {
            // Every demanded phase is at its maximum and the cycle still has time left: spread the
            // excess in proportion to the weights (maximum greens are exceeded).
            double filled = 0.0, wsum = 0.0;
            for (std::size_t j = 0; j < n; ++j) {
                filled += g[j];
                wsum += w[j];
            }
            const double excess = E - filled;
            if (excess > 1e-9) st |= kMaxGreenExceeded;
            for (std::size_t j = 0; j < n; ++j) g[j] += wsum > 0.0 ? excess * w[j] / wsum : excess / static_cast<double>(n);
        }
        for (std::size_t j = 0; j < n; ++j) {
            const auto p = static_cast<std::size_t>(p0) + j;
            green_s[p] = std::max(0.0, g[j] - plan.yellow_s[p] - plan.all_red_s[p] + plan.lost_s[p]);
        }
        const double xc = E > 0.0 ? Y * C / E : kInf;
        if (xc > 1.0 + 1e-12) st |= kOversaturated;
        cycle_s[i] = C;
        status[i] = st;
        critical_xc[i] = xc;
    }
}

std::int8_t level_of_service(double delay_s) {
    if (std::isnan(delay_s)) return -1;
    if (delay_s <= 10.0) return 0;
    if (delay_s <= 20.0) return 1;
    if (delay_s <= 35.0) return 2;
    if (delay_s <= 55.0) return 3;
    if (delay_s <= 80.0) return 4;
    return 5;
}

double progression_factor(std::int32_t arrival_type, double g_over_c) {
    if (arrival_type < 1 || arrival_type > 6)
        throw InputError("arrival_type", -1, "arrival_type: must be 1..6, got " + std::to_string(arrival_type));
    if (!(g_over_c < 1.0)) return 1.0;  // no red: no uniform delay to adjust
    const auto a = static_cast<std::size_t>(arrival_type - 1);
    const double P = std::min(1.0, kPlatoonRatio[a] * g_over_c);
    double pf = (1.0 - P) * kFpa[a] / (1.0 - g_over_c);
    if (arrival_type >= 3) pf = std::min(pf, 1.0);
    return pf;
}

LaneGroupDelay hcm_lane_group_delay(double C, double g, double v, double s, std::int32_t arrival_type,
                                    double k, double I, double qb, double T) {
    if (!(C > 0.0 && std::isfinite(C))) throw InputError("cycle_s", -1, "cycle_s: must be a finite number > 0");
    if (!(g > 0.0 && g <= C * (1.0 + 1e-12)))
        throw InputError("eff_green_s", -1, "eff_green_s: the effective green must lie in (0, C]");
    if (!(T > 0.0 && std::isfinite(T)))
        throw InputError("analysis_period_h", -1, "analysis_period_h: must be a finite number > 0");
    LaneGroupDelay r{};
    const double gc = std::min(1.0, g / C);
    const double c = s * gc;
    const double X = v / c;
    const double xm = std::min(1.0, X);
    r.capacity_vph = c;
    r.x = X;
    r.pf = progression_factor(arrival_type, gc);
    const double d1 = 0.5 * C * (1.0 - gc) * (1.0 - gc) / (1.0 - xm * gc);  // Eq. 16-11
    const double xm1 = X - 1.0;
    r.incremental_s = 900.0 * T * (xm1 + std::sqrt(xm1 * xm1 + 8.0 * k * I * X / (c * T)));  // Eq. 16-12
    r.uniform_s = d1 * r.pf;
    r.initial_queue_s = 0.0;
    if (qb > 0.0) {
        // HCM 2000 Appendix F: duration t (h) of unmet demand, delay parameter u, d3.
        const double spare = c * (1.0 - xm);  // veh/h available to clear the initial queue
        const double t = spare > 0.0 ? std::min(T, qb / spare) : T;
        const double u = t < T ? 0.0 : 1.0 - c * T * (1.0 - xm) / qb;
        r.initial_queue_s = 1800.0 * qb * (1.0 + u) * t / (c * T);
        const double ds = 0.5 * C * (1.0 - gc);  // d1 at X = 1
        r.uniform_s = ds * t / T + r.pf * d1 * (T - t) / T;
    }
    r.delay_s = r.uniform_s + r.incremental_s + r.initial_queue_s;
    return r;
}

PermittedLeftFactor permitted_left_factor(const PermittedLeftInput& in) {
    auto need = [](bool ok, const char* field, const char* what) {
        if (!ok) throw InputError(field, -1, std::string(field) + ": " + what);
    };
    need(in.cycle_s > 0.0 && std::isfinite(in.cycle_s), "cycle_s", "must be a finite number > 0");
    need(in.eff_green_s > 0.0 && in.eff_green_s <= in.cycle_s * (1.0 + 1e-12), "eff_green_s",
         "must lie in (0, C]");
    need(finite_nonneg(in.green_s), "green_s", "must be a finite number >= 0");
    need(finite_nonneg(in.opp_eff_green_s), "opp_eff_green_s", "must be a finite number >= 0");
    need(finite_nonneg(in.lost_time_s), "lost_time_s", "must be a finite number >= 0");
    need(in.lanes >= 1 && in.opp_lanes >= 1, "lanes", "lanes and opposing lanes must be >= 1");
    need(finite_nonneg(in.left_flow_vph) && finite_nonneg(in.opp_flow_vph), "flow_vph",
         "flows must be finite numbers >= 0");
    need(in.left_share >= 0.0 && in.left_share <= 1.0, "left_share", "must lie in [0, 1]");
    need(in.opp_left_share >= 0.0 && in.opp_left_share <= 1.0, "opp_left_share", "must lie in [0, 1]");
    need(in.opp_lane_util > 0.0 && in.opp_lane_util <= 1.0, "opp_lane_util", "must lie in (0, 1]");
    need(finite_nonneg(in.opp_platoon_ratio), "opp_platoon_ratio", "must be a finite number >= 0");
    need(in.critical_gap_s > 0.0 && in.follow_up_s > 0.0 && in.through_sat_flow > 0.0, "critical_gap_s",
         "critical gap, follow-up time and through saturation flow must be > 0");
    need(finite_nonneg(in.sneakers), "sneakers", "must be a finite number >= 0");

    PermittedLeftFactor r{};
    const double C = in.cycle_s, g = in.eff_green_s, vo = in.opp_flow_vph;
    // Gap-acceptance left-turn saturation flow through v_o and the through-car equivalent E_L1.
    r.left_sat_flow_vph = vo > 0.0 ? vo * std::exp(-vo * in.critical_gap_s / 3600.0) /
                                         (1.0 - std::exp(-vo * in.follow_up_s / 3600.0))
                                   : 3600.0 / in.follow_up_s;
    r.e_l1 = std::max(1.0, in.through_sat_flow / r.left_sat_flow_vph);
    const double p_lt = in.exclusive ? 1.0 : in.left_share;
    if (!(in.left_flow_vph > 0.0) || !(p_lt > 0.0)) {
        r.f_lt = r.f_m = 1.0;
        r.f_min = 0.0;
        r.e_l2 = 1.0;
        r.p_l = 0.0;
        r.g_u = g;
        return r;
    }
    const double G = in.green_s, tl = in.lost_time_s;
    const bool single_opp = in.opp_lanes == 1;
    const double ltc = in.left_flow_vph * C / 3600.0;
    if (in.exclusive) {
        r.g_f = 0.0;
    } else if (in.lanes == 1) {
        r.g_f = G * std::exp(-0.860 * std::pow(ltc, 0.629)) - tl;
    } else {
        r.g_f = G * std::exp(-0.882 * std::pow(ltc, 0.717)) - tl;
    }
    r.g_f = std::clamp(r.g_f, 0.0, g);
    const double volc = vo * C / (3600.0 * in.opp_lanes * in.opp_lane_util);
    const double go = in.opp_eff_green_s;
    const double qro = std::max(1.0 - in.opp_platoon_ratio * go / C, 0.0);
    if (single_opp) {
        r.g_q = volc > 0.0 && qro > 0.0 ? 4.943 * std::pow(volc, 0.762) * std::pow(qro, 1.061) - tl : -tl;
    } else {
        // The opposing queue clears at (g_q + t_L) = v_olc qr_o / (0.5 - v_olc (1 - qr_o) / g_o);
        // a non-positive denominator means it never clears within the green.
        const double den = go > 0.0 ? 0.5 - volc * (1.0 - qro) / go : -1.0;
        r.g_q = den > 0.0 ? volc * qro / den - tl : g;
    }
    r.g_q = std::clamp(r.g_q, 0.0, g);
    r.g_u = r.g_q >= r.g_f ? g - r.g_q : g - r.g_f;
    r.g_diff = single_opp ? std::max(r.g_q - r.g_f, 0.0) : 0.0;
    const double n_opp_left = std::max((r.g_q - r.g_f) / 2.0, 0.0);
    const double p_tho = 1.0 - in.opp_left_share;
    // (1 - P_THo^n) / P_LTo tends to n as P_LTo -> 0 (no opposing left-turner opens a gap: the
    // left-turner waits for all n opposing vehicles queued in g_q - g_f).
    r.e_l2 = in.opp_left_share > 1e-12 ? std::max((1.0 - std::pow(p_tho, n_opp_left)) / in.opp_left_share, 1.0)
                                       : std::max(n_opp_left, 1.0);
    if (in.exclusive || in.lanes == 1) {
        r.p_l = p_lt;
    } else {
        const double fs = std::max(0.0, (875.0 - 0.625 * vo) / 1000.0);
        r.p_l = std::min(1.0, p_lt * (1.0 + (in.lanes - 1) * g / (fs * r.g_u + 4.24)));
    }
    r.f_min = in.sneakers * (1.0 + r.p_l) / g;
    double fm = r.g_f / g + r.g_u / g / (1.0 + r.p_l * (r.e_l1 - 1.0));
    if (single_opp) fm += r.g_diff / g / (1.0 + r.p_l * (r.e_l2 - 1.0));
    r.f_m = std::min(1.0, std::max(r.f_min, fm));
    r.f_lt = in.exclusive ? r.f_m : (r.f_m + 0.91 * (in.lanes - 1)) / in.lanes;
    return r;
}

void effective_greens(const PlanView& plan, Span<const double> green_s, Span<double> eff_green_s) {
    if (green_s.size() != plan.num_phases()) fail("green_s", 0, "expected one entry per phase");
    if (eff_green_s.size() != plan.num_groups()) fail("eff_green_s", 0, "expected one entry per lane group");
    for (std::size_t p = 0; p < green_s.size(); ++p)
        if (!finite_nonneg(green_s[p])) fail("green_s", p, "must be a finite number >= 0");
    for (std::size_t i = 0; i < plan.num_intersections(); ++i) {
        const index_t p0 = plan.phase_first[i], p1 = plan.phase_first[i + 1];
        for (index_t g = plan.group_first[i]; g < plan.group_first[i + 1]; ++g)
            eff_green_s[static_cast<std::size_t>(g)] = group_eff_green(plan, green_s, static_cast<std::size_t>(g), p0, p1);
    }
}

void evaluate_plan(const PlanView& plan, Span<const double> green_s, double T, const Evaluation& out) {
    const std::size_t ni = plan.num_intersections(), ng = plan.num_groups();
    auto need = [](std::size_t have, std::size_t want, const char* field) {
        if (have != want)
            fail(field, 0, "expected length " + std::to_string(want) + ", got " + std::to_string(have));
    };
    for (auto* s : {&out.eff_green_s, &out.capacity_vph, &out.x, &out.pf, &out.uniform_s, &out.incremental_s,
                    &out.initial_queue_s, &out.delay_s})
        need(s->size(), ng, "evaluation (lane group output)");
    need(out.los.size(), ng, "los");
    for (auto* s : {&out.cycle_s, &out.flow_vph, &out.delay_s_int, &out.critical_xc})
        need(s->size(), ni, "evaluation (intersection output)");
    need(out.los_int.size(), ni, "los_int");
    if (!(T > 0.0 && std::isfinite(T))) fail("analysis_period_h", 0, "must be a finite number > 0");

    effective_greens(plan, green_s, out.eff_green_s);
    for (std::size_t i = 0; i < ni; ++i) {
        const index_t p0 = plan.phase_first[i], p1 = plan.phase_first[i + 1];
        double C = 0.0, L = 0.0;
        for (index_t p = p0; p < p1; ++p) {
            const auto pp = static_cast<std::size_t>(p);
            C += green_s[pp] + plan.yellow_s[pp] + plan.all_red_s[pp];
            L += plan.lost_s[pp];
        }
        if (!(C > 0.0)) fail("green_s", static_cast<std::size_t>(p0), "intersection has a zero cycle");
        double flow = 0.0, weighted = 0.0, Y = 0.0;
        // Critical flow ratio per phase (single-phase lane groups), as in critical_flow_ratios.
        constexpr std::size_t kSmall = 32;
        double ybuf[kSmall];
        std::vector<double> yvec;
        double* y = ybuf;
        const auto n = static_cast<std::size_t>(p1 - p0);
        if (n > kSmall) {
            yvec.assign(n, 0.0);
            y = yvec.data();
        } else {
            std::fill(ybuf, ybuf + n, 0.0);
        }
        for (index_t gi = plan.group_first[i]; gi < plan.group_first[i + 1]; ++gi) {
            const auto g = static_cast<std::size_t>(gi);
            const double eg = out.eff_green_s[g];
            if (!(eg > 0.0)) fail("green_s", g, "lane group " + std::to_string(g) + " gets no effective green");
            const LaneGroupDelay d =
                hcm_lane_group_delay(C, eg, plan.flow_vph[g], plan.sat_flow_vph[g], plan.arrival_type[g], plan.k[g],
                                     plan.upstream_i[g], plan.initial_queue_veh[g], T);
            out.capacity_vph[g] = d.capacity_vph;
            out.x[g] = d.x;
            out.pf[g] = d.pf;
            out.uniform_s[g] = d.uniform_s;
            out.incremental_s[g] = d.incremental_s;
            out.initial_queue_s[g] = d.initial_queue_s;
            out.delay_s[g] = d.delay_s;
            out.los[g] = level_of_service(d.delay_s);
            flow += plan.flow_vph[g];
            weighted += plan.flow_vph[g] * d.delay_s;
            if (plan.serve_first[g + 1] - plan.serve_first[g] == 1) {
                const auto j = static_cast<std::size_t>(plan.serve_phase[static_cast<std::size_t>(plan.serve_first[g])] - p0);
                y[j] = std::max(y[j], plan.flow_vph[g] / plan.sat_flow_vph[g]);
            }
        }
        for (std::size_t j = 0; j < n; ++j) Y += y[j];
        out.cycle_s[i] = C;
        out.flow_vph[i] = flow;
        out.delay_s_int[i] = flow > 0.0 ? weighted / flow : std::nan("");
        out.los_int[i] = level_of_service(out.delay_s_int[i]);
        out.critical_xc[i] = C > L ? Y * C / (C - L) : kInf;
    }
}

}  // namespace smartcore::signals
