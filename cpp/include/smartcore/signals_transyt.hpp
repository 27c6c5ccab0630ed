// TRANSYT-style network model and optimiser of fixed-time signal plans (cycle, splits, offsets).
//
// Literature
//   Robertson, D.I. (1969), "TRANSYT: a traffic network study tool", Road Research Laboratory Report
//   LR 253, Crowthorne: cyclic flow profiles, platoon dispersion, the performance index and the
//   hill-climbing optimiser. The dispersion model is Robertson's recurrence as used by TRANSYT
//   (e.g. TRANSYT-7F User's Guide, FHWA 1988; TRL Application Guide 63 for TRANSYT 13).
//
// Model (every lane group of a PlanView is a TRANSYT "link" ending at a stop line)
//   * Time runs in steps of dt = C / n over the cycle C of each intersection (n = round(C / step_s)),
//     in the intersection's local frame: local time 0 is the start of phase 0's green, i.e. global
//     time offset_s (the plan's offset convention, see smartcore/signals.hpp and plan.py).
//   * Capacity profile: a lane group discharges at its saturation flow s during its effective
//     green windows. A run of consecutive serving phases gives one window that starts the start-up
//     lost time after the run's first green starts (min(start_lost_s, lost time of the run's last
//     phase)) and lasts the run's effective green (run duration - lost time of its last phase).
//     Each step's service is s * (green time inside the step) / 3600 vehicles.
//   * Arrival (IN) profile of lane group g: the feeds (upstream lane groups u sending a share of
//     their outflow to g, with cruise time T s from stop line to stop line) plus uniform arrivals
//     for the rest of g's flow v_g:
//        IN_g(t) = u_g + sigma_g * sum_feeds share * D_u(t - (offset_u - offset_g) / dt)
//     where D_u is u's outflow dispersed by Robertson's recurrence (in u's local frame)
//        D(t + T') = F OUT(t) + (1 - F) D(t + T' - 1),  T' = round(beta T / dt),
//        F = 1 / (1 + alpha beta T / dt)           (alpha = 0.35, beta = 0.8: TRANSYT defaults),
//     solved for its periodic steady state over the cycle, and shifted by the offset difference
//     (linear interpolation between steps for a fractional shift). u_g = (v_g - sum share v_u) dt
//     / 3600 per step (>= 0); when the feeds' nominal flow exceeds v_g they are scaled by
//     sigma_g = v_g / sum share v_u < 1. A feed from an intersection whose cycle has a different
//     number of steps carries its flow as uniform arrivals (its platoons drift through the cycle).
//   * Stop line: a vertical queue served at the capacity profile, with arrival and service rates
//     constant within a step, so that queue area, clearing instants and stops are exact for
//     piecewise-constant rates (for uniform arrivals and step-aligned greens the uniform delay
//     equals Webster's / HCM 2000 Eq. 16-11 d1 exactly). The periodic steady state is reached by
//     simulating two cycles (when X < 1 the queue empties within the first). Arrivals above
//     capacity are scaled to the capacity for this deterministic part (delay at X = 1, as HCM's
//     min(1, X)); the excess is carried by the random-plus-oversaturation term.
//   * Per lane group (v = entering flow, c = s g / C):
//       uniform delay    D_u = mean deterministic queue (veh = veh.h/h),
//       random + oversaturation delay  D_r = v d2 / 3600 with HCM 2000 Eq. 16-12's d2 (k, I, T),
//       stops            S = arrivals that meet a queue or red (veh/h), plus the excess v - c when
//                        oversaturated,
//       performance index PI_g = D_u + D_r + K S / 3600 (veh.h/h), K = stop_penalty_s seconds of
//                        delay per stop (TRANSYT's PI = delay + K x stops).
//   * Network state: the profiles are a fixed point (outflows feed inflows). It is reached by a
//     worklist in topological order of the feed graph (cycles broken deterministically): a lane
//     group is recomputed when a feeder's outflow changed by more than `tolerance_veh` in some
//     step, so an acyclic network is exact after one pass and loops (grids) converge.
//
// Optimiser (transyt_optimise): TRANSYT's hill climb. For each intersection in turn, shift its
// offset by +/- a step and, for each pair of consecutive phases, move green from one to the other
// (min/max greens respected, the cycle kept); accept a change when the network PI drops and keep
// going in that direction. Sweeps repeat until no change helps, for a sequence of decreasing step
// sizes. Each move is evaluated incrementally (only the lane groups whose profiles change, with a
// journal to undo rejected moves). Random restarts (offsets drawn uniformly, seeded by seed and
// restart index) run on threads, each with its own state; the best result wins (ties: lowest
// restart), so results do not depend on the number of threads. Candidate common cycles are each
// climbed once from equisaturation greens (HCM v/s) with offsets scaled to the new cycle; the
// restarts then run at the best one. The starting plan is always a candidate, so the returned PI
// never exceeds the starting plan's.
//
// Units: s, veh/h, veh, veh.h/h. Thread-safety: functions are re-entrant; the optimiser's threads
// share only read-only inputs. Ownership: all spans are caller-owned views.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "smartcore/common.hpp"
#include "smartcore/signals.hpp"

namespace smartcore::signals {

// Feeds between lane groups (CSR by the receiving lane group).
struct FeedView {
    Span<const index_t> feed_first;    // [n_group + 1]
    Span<const index_t> feed_from;     // [n_feed] upstream lane group (global index)
    Span<const double> feed_share;     // [n_feed] share of the upstream group's outflow, (0, 1]
    Span<const double> feed_travel_s;  // [n_feed] cruise time stop line to stop line (s), >= 0
};

struct TransytOptions {
    double step_s = 1.0;          // profile step (s)
    double alpha = 0.35;          // Robertson's platoon dispersion factor (TRANSYT default)
    double beta = 0.8;            // travel-time factor (TRANSYT default)
    double stop_penalty_s = 0.0;  // K: seconds of delay per stop in the PI (0: PI = total delay)
    double start_lost_s = 2.0;    // start-up lost time at the beginning of each green run (s)
    double analysis_period_h = 0.25;  // T of the random-plus-oversaturation delay (h)
    double tolerance_veh = 1e-7;  // outflow change (veh per step) that propagates downstream
    std::int64_t max_updates_per_group = 200;  // worklist cap (loops): total updates <= this * n_group
};

// Outputs of transyt_evaluate (caller-owned; profile spans may be empty).
struct TransytEvaluation {
    // per lane group [n_group]
    Span<double> flow_in_vph;          // entering flow v (veh/h)
    Span<double> capacity_vph;         // c = s g / C
    Span<double> x;                    // v / c
    Span<double> uniform_delay_veh_h;  // D_u (veh.h/h)
    Span<double> random_delay_veh_h;   // D_r (veh.h/h)
    Span<double> delay_s;              // (D_u + D_r) 3600 / v (s/veh; 0 without flow)
    Span<double> stops_vph;            // S (stops/h)
    Span<double> stop_rate;            // S / v
    Span<double> max_queue_veh;        // largest deterministic queue over the cycle (veh)
    Span<double> arrivals_on_green;    // share of arrivals during effective green
    Span<double> pi;                   // PI_g (veh.h/h)
    // Profiles, CSR by lane group with profile_first[g + 1] - profile_first[g] = steps of g's
    // intersection (all three empty, or all sized profile_first.back()); veh per step, local frame.
    Span<const std::int64_t> profile_first;
    Span<double> in_profile, out_profile, queue_profile;  // queue at the start of each step
};

// Steps of every intersection's cycle at these greens (n = max(1, round(C / step_s))).
std::vector<std::int64_t> transyt_steps(const PlanView& plan, Span<const double> green_s, double step_s);

// Checks sizes, index ranges, shares in (0, 1], travel times >= 0, options (throws InputError).
void validate_feeds(const PlanView& plan, const FeedView& feeds, const TransytOptions& options);

// Evaluate the plan (displayed greens [n_phase], offsets [n_int]); returns the network PI (veh.h/h).
double transyt_evaluate(const PlanView& plan, const FeedView& feeds, Span<const double> green_s,
                        Span<const double> offset_s, const TransytOptions& options, const TransytEvaluation& out);

struct OptimiseOptions {
    // Candidate common cycles (s). Empty: every intersection keeps its cycle (only offsets and
    // splits change). Candidates too short for some intersection's minimum greens are skipped.
    std::vector<double> cycles_s;
    bool offsets = true;
    bool splits = true;
    int restarts = 4;        // hill climbs at the chosen cycle: the start plus restarts - 1 random
    std::uint64_t seed = 0;
    int threads = 0;         // <= 0: hardware concurrency
    // Step sizes of the offset moves as fractions of the cycle (each at least one step), largest
    // first; 1 step is always the last. Split moves use split_steps_s then one step.
    std::vector<double> offset_step_fractions{0.25, 0.1, 0.03};
    std::vector<double> split_steps_s{4.0};
    int max_sweeps = 30;     // per step size
};

// Progress: (tasks done, tasks total, best PI so far); returning false cancels the search, which
// then returns the best plan found so far with `cancelled` set. Called from the calling thread.
using OptimiseProgress = std::function<bool(std::int64_t done, std::int64_t total, double best_pi)>;

struct OptimiseResult {
    std::vector<double> green_s;   // [n_phase] displayed greens of the best plan
    std::vector<double> offset_s;  // [n_int] in [0, C)
    double pi = 0.0;               // PI of the best plan (full evaluation)
    double pi_start = 0.0;         // PI of the starting plan
    std::vector<double> cycles_s;            // candidate cycles evaluated (empty: plan's cycles kept)
    std::vector<double> cycle_pi;            // best PI per candidate (NaN when skipped)
    std::vector<double> restart_pi;          // final PI of each hill climb at the chosen cycle
    std::int64_t moves = 0;                  // moves evaluated
    std::int64_t accepted = 0;               // moves accepted
    std::int64_t group_updates = 0;          // lane-group recomputations (incremental evaluation)
    bool cancelled = false;
};

OptimiseResult transyt_optimise(const PlanView& plan, const FeedView& feeds, Span<const double> green_s,
                                Span<const double> offset_s, const TransytOptions& options,
                                const OptimiseOptions& opt, const OptimiseProgress& progress = {});

}  // namespace smartcore::signals
