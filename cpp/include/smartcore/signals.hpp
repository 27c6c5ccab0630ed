// Signal timing kernel: Webster cycles, equisaturation splits with minimum/maximum greens, and the
// HCM 2000 control-delay model, over many fixed-time (pretimed) intersections at once.
//
// Data layout. A batch of intersections is stored flat, in CSR form:
//
//   intersection i has phases   phase_first[i] .. phase_first[i+1]-1   (global phase indices),
//                   lane groups group_first[i] .. group_first[i+1]-1   (global group indices);
//   lane group g is served by   serve_phase[serve_first[g] .. serve_first[g+1]-1] (global phase
//                               indices, all of g's own intersection).
//
// Phases of an intersection run in index order, each as green, yellow, all-red. The cycle is
//   C = sum_p (G_p + Y_p + R_p)
// where G is the displayed green, Y the yellow and R the all-red interval (s). Each phase loses
// l_p seconds (start-up lost time + clearance lost time, HCM 2000 Chapter 16 and Chapter 10), so its
// effective green is  g_p = G_p + Y_p + R_p - l_p  and  sum_p g_p = C - L  with  L = sum_p l_p.
// A lane group served by a run of consecutive phases keeps moving through the intergreens inside
// the run, so its effective green is the sum of the run's (G + Y + R) minus the lost time of the
// run's last phase only (the start-up and clearance losses occur once per run).
//
// Webster's method and the critical flow ratio. Phase p's critical flow ratio y_p is the largest
// v/s of the lane groups served by p *alone*; lane groups served by several phases (overlaps,
// protected-plus-permitted turns) are not critical for any single phase and are checked by the
// delay model afterwards (their X is reported). Y = sum_p y_p.
//
// Units: times in seconds, flows in vehicles (or pcu) per hour, the analysis period T in hours.
//
// Thread-safety: every function is pure (reads its inputs, writes only its outputs) and may run
// concurrently on distinct outputs. Nothing here allocates more than O(phases of one
// intersection) scratch space.
#pragma once

#include <cstdint>

#include "smartcore/common.hpp"

namespace smartcore::signals {

// --- status flags of a timing computation (bit set per intersection) -----------------------------
enum TimingStatus : std::uint32_t {
    kTimingOk = 0,
    // The unconstrained cycle (Webster / target v/c) exceeded cycle_max and was capped.
    kCycleAtMax = 1u << 0,
    // The critical v/c ratio Xc = Y C / (C - L) exceeds 1 at the chosen cycle (including Y >= 1,
    // where no cycle can serve the demand): the intersection is oversaturated.
    kOversaturated = 1u << 1,
    // The unconstrained cycle was below cycle_min and was raised to it.
    kCycleAtMin = 1u << 2,
    // The cycle was raised (possibly above cycle_max) so that every phase gets its minimum green.
    kCycleForMinGreens = 1u << 3,
    // The cycle was lowered so that no phase exceeds its maximum green.
    kCycleForMaxGreens = 1u << 4,
    // With a fixed cycle, greens had to exceed some maximum greens to fill the cycle.
    kMaxGreenExceeded = 1u << 5,
    // With a fixed cycle, the cycle is too short for the minimum greens: greens were scaled down.
    kMinGreenViolated = 1u << 6,
    // The target v/c could not be met (Y >= target): the cycle is cycle_max.
    kTargetUnreachable = 1u << 7,
};

enum class CycleMethod : std::int32_t {
    // Webster (1958): C0 = (1.5 L + 5) / (1 - Y).
    kWebster = 0,
    // Cycle for a target critical v/c ratio Xc (from the critical v/c ratio of HCM 2000
    // Chapter 16, Xc = Y C / (C - L)):  C = L Xc / (Xc - Y).
    kTargetVc = 1,
};

// Webster's optimum cycle length (s): C0 = (1.5 L + 5) / (1 - Y). Returns +inf when Y >= 1.
// Webster, F.V. (1958), Traffic Signal Settings, Road Research Technical Paper 39, HMSO, London.
double webster_cycle(double lost_time_s, double flow_ratio_sum);

// Cycle length (s) at which the critical v/c ratio equals target_x: C = L Xc / (Xc - Y)
// (from Xc = Y C / (C - L), HCM 2000 Chapter 16). Returns +inf when Y >= target_x.
double cycle_for_target_vc(double lost_time_s, double flow_ratio_sum, double target_x);

// Phase and lane-group description of a batch of intersections (see the file comment).
// All spans are non-owning views owned by the caller.
struct PlanView {
    Span<const index_t> phase_first;    // [n_int + 1]
    Span<const double> yellow_s;        // [n_phase]
    Span<const double> all_red_s;       // [n_phase]
    Span<const double> lost_s;          // [n_phase] lost time l_p
    Span<const double> min_green_s;     // [n_phase] minimum displayed green (vehicle and pedestrian)
    Span<const double> max_green_s;     // [n_phase] maximum displayed green (+inf: none)
    Span<const double> cycle_min_s;     // [n_int]
    Span<const double> cycle_max_s;     // [n_int]
    Span<const index_t> group_first;    // [n_int + 1]
    Span<const index_t> serve_first;    // [n_group + 1]
    Span<const index_t> serve_phase;    // [serve_first[n_group]] global phase indices
    Span<const double> flow_vph;        // [n_group] demand flow rate v
    Span<const double> sat_flow_vph;    // [n_group] saturation flow rate s (all lanes of the group)
    Span<const std::int32_t> arrival_type;  // [n_group] HCM arrival type 1..6 (3: random arrivals)
    Span<const double> k;               // [n_group] incremental delay factor (0.5 pretimed)
    Span<const double> upstream_i;      // [n_group] upstream filtering factor I (1.0 isolated)
    Span<const double> initial_queue_veh;  // [n_group] initial queue Qb at the start of T

    std::size_t num_intersections() const { return phase_first.empty() ? 0 : phase_first.size() - 1; }
    std::size_t num_phases() const { return yellow_s.size(); }
    std::size_t num_groups() const { return flow_vph.size(); }
};

// Check sizes, CSR monotonicity, index ranges and values (non-negative flows, positive saturation
// flows, min <= max greens, positive cycle bounds, each lane group served by >= 1 phase of its own
// intersection, each intersection with >= 1 phase). Throws InputError naming the field and index.
void validate_plan(const PlanView& plan);

// Critical flow ratio of every phase: y_p = max v/s over lane groups served by p alone (0 when
// none). Output [n_phase].
void critical_flow_ratios(const PlanView& plan, Span<double> y_phase);

struct TimingOptions {
    CycleMethod method = CycleMethod::kWebster;
    double target_x = 0.9;  // for kTargetVc
};

// Cycle and displayed greens of every intersection.
//
// For intersection i: when fixed_cycle_s is non-empty and fixed_cycle_s[i] is finite, that cycle is
// kept; otherwise the cycle comes from `options.method`, is clamped to [cycle_min, cycle_max], then
// raised to fit the minimum greens and lowered to respect the maximum greens (status flags say
// which applied). Y >= 1 (or Y >= target_x) gives cycle_max and kOversaturated, never infinity.
//
// Greens are equisaturation splits (effective green proportional to y_p) with bounds: phases whose
// share would fall below their minimum green are fixed at it and the rest is re-split in
// proportion to y among the others (likewise for maximum greens). This is solved exactly as a
// water-filling problem: find lambda with sum_p clamp(lambda y_p, gmin_p, gmax_p) = C - L.
// When Y = 0 the free phases share equally.
//
// Outputs: cycle_s [n_int], green_s [n_phase] displayed greens, status [n_int] (TimingStatus bits),
// critical_xc [n_int] the critical v/c ratio Y C / (C - L) at the chosen cycle.
void compute_timings(const PlanView& plan, Span<const double> y_phase, const TimingOptions& options,
                     Span<const double> fixed_cycle_s, Span<double> cycle_s, Span<double> green_s,
                     Span<std::uint32_t> status, Span<double> critical_xc);

// --- HCM 2000 control delay ---------------------------------------------------------------------

// Level of service by control delay (s/veh), HCM 2000 Exhibit 16-2: A <= 10 < B <= 20 < C <= 35
// < D <= 55 < E <= 80 < F. Returns 0..5 for A..F, -1 for NaN.
std::int8_t level_of_service(double delay_s);

// Progression adjustment factor PF = (1 - P) f_PA / (1 - g/C), P = min(1, R_p g/C)
// (HCM 2000 Eq. 16-10, R_p and f_PA from Exhibit 16-11 by arrival type 1..6; PF <= 1 for arrival
// types 3 to 6). Throws InputError for an arrival type outside 1..6.
double progression_factor(std::int32_t arrival_type, double g_over_c);

// One lane group's delay terms (s/veh) and capacity (veh/h).
struct LaneGroupDelay {
    double capacity_vph;  // c = s g / C
    double x;             // degree of saturation X = v / c
    double pf;            // progression factor
    double uniform_s;     // uniform delay as it enters d: PF d1 (or the Appendix F blend with Qb > 0)
    double incremental_s; // d2
    double initial_queue_s;  // d3
    double delay_s;       // control delay d = uniform + d2 + d3
};

// HCM 2000 Chapter 16 control delay of one lane group:
//   d1 = 0.5 C (1 - g/C)^2 / (1 - min(1, X) g/C)                                    (Eq. 16-11)
//   d2 = 900 T [(X - 1) + sqrt((X - 1)^2 + 8 k I X / (c T))]                        (Eq. 16-12)
//   d  = d1 PF + d2 + d3                                                             (Eq. 16-9)
// With an initial queue Qb > 0 (HCM 2000 Appendix F): t = min(T, Qb / (c (1 - min(1, X)))) is the
// duration of unmet demand in T (h), u = 0 if t < T else 1 - c T (1 - min(1, X)) / Qb,
//   d3 = 1800 Qb (1 + u) t / (c T),
// and the uniform term becomes d_s t/T + PF d1 (T - t)/T with d_s = d1 at X = 1.
// g and C in s, v and s in veh/h, T in h, Qb in veh. Requires g > 0 (throws InputError otherwise).
LaneGroupDelay hcm_lane_group_delay(double cycle_s, double eff_green_s, double flow_vph,
                                    double sat_flow_vph, std::int32_t arrival_type, double k,
                                    double upstream_i, double initial_queue_veh,
                                    double analysis_period_h);

// --- HCM 2000 Chapter 16, Appendix C: permitted left turns ----------------------------------------
//
// Left turns that filter through the opposing flow (SUMO's minor green "g", a shared or exclusive
// lane without a protected arrow) lose capacity that a saturation-flow table ignores: while the
// opposing queue discharges, a left-turner at the head of a shared lane blocks it; afterwards it
// waits for gaps in the unsaturated opposing flow. HCM 2000 Appendix C (Chapter 16) models the
// permitted green as up to three periods:
//
//   g_f  before the first left-turner arrives (shared lanes only; 0 for an exclusive lane):
//        multilane   g_f = G exp(-0.882 LTC^0.717) - t_L
//        single lane g_f = G exp(-0.860 LTC^0.629) - t_L,    LTC = v_LT C / 3600 (left turns/cycle)
//   g_q  while the opposing queue clears (lefts blocked):
//        opposing multilane   g_q = v_olc qr_o / (0.5 - v_olc (1 - qr_o) / g_o) - t_L
//        opposing single lane g_q = 4.943 v_olc^0.762 qr_o^1.061 - t_L
//        v_olc = v_o C / (3600 N_o f_LUo) (opposing veh per lane per cycle),
//        qr_o = max(1 - R_po g_o / C, 0) (opposing queue ratio, R_po its platoon ratio)
//   g_u  the rest, lefts filtering through the unsaturated opposing flow: g_u = g - max(g_q, g_f)
//
// with left-turn through-car equivalents E_L1 during g_u and, opposed by a single lane, E_L2 =
// max((1 - P_THo^n) / P_LTo, 1) during g_diff = max(g_q - g_f, 0) (opposing left-turners block
// their own lane and open gaps; n = max((g_q - g_f) / 2, 0), P_THo = 1 - P_LTo; max(n, 1), the
// limit, when P_LTo = 0). The proportion of
// left turns in the lane P_L = P_LT [1 + (N - 1) g / (f_s g_u + 4.24)] with f_s = (875 - 0.625
// v_o) / 1000 >= 0 (1 for an exclusive lane), and
//
//   f_m  = g_f / g + g_diff / g / (1 + P_L (E_L2 - 1)) + g_u / g / (1 + P_L (E_L1 - 1)),
//          clamped to [f_min, 1] with f_min = n_s (1 + P_L) / g: the left-turners that clear at the
//          end of each green ("sneakers"), n_s = 2 per cycle in HCM 2000
//          (the g_diff term applies with a single-lane opposing approach only)
//   f_LT = (f_m + 0.91 (N - 1)) / N   (shared lane group of N lanes),   f_LT = f_m (exclusive).
//
// E_L1, the through-car equivalent of a permitted left turn (HCM 2000 Exhibit C16-3 tabulates it
// against v_o), is computed as s_th / s_lt with the gap-acceptance left-turn saturation flow
//   s_lt = v_o exp(-v_o t_c / 3600) / (1 - exp(-v_o t_f / 3600))   (3600 / t_f when v_o = 0)
// (Drew 1968; the form of HCM 2000 Eq. 17-3), critical gap t_c = 4.5 s, follow-up t_f = 2.5 s and
// s_th = 1900 pc/h/ln, never below 1.
struct PermittedLeftInput {
    double cycle_s = 0.0;             // C
    double green_s = 0.0;             // G: displayed green of the lane group (s)
    double eff_green_s = 0.0;         // g: effective (permitted) green of the lane group (s)
    double opp_eff_green_s = 0.0;     // g_o: effective green of the opposing lane groups (s)
    double lost_time_s = 0.0;         // t_L: lost time of the lane group (s)
    std::int32_t lanes = 1;           // N
    bool exclusive = false;           // an exclusive left-turn lane group (else shared)
    double left_flow_vph = 0.0;       // v_LT
    double left_share = 0.0;          // P_LT: left turns / lane group flow (1 for exclusive)
    double opp_flow_vph = 0.0;        // v_o: flow of the opposing approach (all its movements)
    std::int32_t opp_lanes = 1;       // N_o
    double opp_lane_util = 1.0;       // f_LUo
    double opp_left_share = 0.0;      // P_LTo
    double opp_platoon_ratio = 1.0;   // R_po (1.0: random arrivals, arrival type 3)
    double critical_gap_s = 4.5;      // t_c for E_L1
    double follow_up_s = 2.5;         // t_f for E_L1
    double through_sat_flow = 1900.0; // s_th for E_L1 (pc/h/ln)
    double sneakers = 2.0;            // n_s: left turns clearing after each green (HCM 2000: 2)
};

struct PermittedLeftFactor {
    double f_lt;    // left-turn adjustment factor of the lane group
    double f_m;     // factor of the lane from which lefts are made
    double f_min;   // n_s (1 + P_L) / g
    double g_f, g_q, g_u, g_diff;  // periods (s)
    double e_l1, e_l2, p_l;
    double left_sat_flow_vph;  // s_lt of the gap-acceptance model (veh/h)
};

// f_LT of HCM 2000 Appendix C (see above). Throws InputError for non-finite or negative inputs,
// g <= 0, C <= 0 or lanes < 1. Without left turns (v_LT = 0 or P_LT = 0) f_LT = 1.
PermittedLeftFactor permitted_left_factor(const PermittedLeftInput& in);

// Outputs of evaluate_plan (all caller-owned).
struct Evaluation {
    // per lane group [n_group]
    Span<double> eff_green_s, capacity_vph, x, pf, uniform_s, incremental_s, initial_queue_s, delay_s;
    Span<std::int8_t> los;
    // per intersection [n_int]
    Span<double> cycle_s, flow_vph, delay_s_int, critical_xc;
    Span<std::int8_t> los_int;
};

// Effective green of every lane group from the phases' displayed greens (see file comment).
void effective_greens(const PlanView& plan, Span<const double> green_s, Span<double> eff_green_s);

// Evaluate displayed greens `green_s` [n_phase] with the HCM 2000 delay model: lane-group terms as
// in hcm_lane_group_delay, intersection delay = flow-weighted mean of lane-group delays (HCM 2000
// Chapter 16, approach and intersection delay; NaN and LOS -1 when the intersection carries no
// flow), LOS by Exhibit 16-2, and the critical v/c ratio Xc = Y C / (C - L) (HCM 2000 Chapter 16).
void evaluate_plan(const PlanView& plan, Span<const double> green_s, double analysis_period_h,
                   const Evaluation& out);

}  // namespace smartcore::signals
