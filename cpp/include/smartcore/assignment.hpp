// Static user-equilibrium traffic assignment (Wardrop's first principle): link-based
// Frank-Wolfe family and the bush-based Algorithm B.
//
// Problem. A directed multigraph with per-link performance functions t_a(v) (see
// assignment_vdf.hpp), K traffic classes, each with a zone-to-zone demand matrix, a passenger car
// equivalent (PCE) and a per-link fixed generalised cost f_ka (toll_factor * toll +
// distance_factor * length, in time units). Class k chooses paths minimising t_a(v) + f_ka summed
// over the path, where v_a is the total link flow in PCE. With flows y_ka in PCE units this is the
// convex program (Beckmann, McGuire and Winsten, 1956)
//     min  sum_a integral_0^{v_a} t_a(s) ds + sum_k sum_a f_ka y_ka,   v_a = sum_k y_ka,
// whose optimality conditions are the equilibrium of every class.
//
// Conventions (those of the TNTP benchmark codes):
//   * Zones are demand rows/columns; zone_node[z] is the network node of zone z. Intrazonal
//     demand (origin node == destination node) is never assigned and costs 0.
//   * Relative gap = (TSTC - SPTC) / SPTC: TSTC = sum over classes and links of flow * cost,
//     SPTC = sum over OD pairs of demand * shortest path cost, both with the current link costs.
//     Both in PCE x time units.
//   * Average excess cost = (TSTC - SPTC) / (total assigned demand in PCE).
//   * Nodes with index < first_thru_node are never passed through (TNTP <FIRST THRU NODE>).
//   * OD pairs with demand but no path are reported (count and demand), not assigned, and left
//     out of TSTC and SPTC; they never produce NaN or inf.
//
// Algorithms:
//   * kAllOrNothing: one all-or-nothing loading at free-flow costs.
//   * kMsa: method of successive averages, step 1/k.
//   * kFrankWolfe: Frank and Wolfe (1956) / LeBlanc, Morlok and Pierskalla (1975), exact line
//     search on the Beckmann objective (safeguarded Newton-bisection on its derivative).
//   * kConjugateFrankWolfe, kBiconjugateFrankWolfe: Mitradjieva and Lindberg, "The stiff is
//     moving - conjugate direction Frank-Wolfe methods with applications to traffic assignment",
//     Transportation Science 47(2), 280-293, 2013; the step sequence (FW, then CFW, then BFW,
//     restarting with FW after a full step) follows AequilibraE's implementation.
//   * kBush: Algorithm B, Dial, R.B., "A path-based user-equilibrium traffic assignment
//     algorithm that obviates path storage and enumeration", Transportation Research Part B 40(10),
//     917-936, 2006: one acyclic bush per (class, origin), Newton flow shifts from the longest to
//     the shortest used path segment of every merge node, bush improvement by Dial's criterion
//     (details in assignment_bush.cpp).
//
// Threads: all-or-nothing loadings give each thread a static set of origins and its own partial
// flow arrays, reduced in thread order: results are bit-identical for a given thread count.
// Algorithm B's flow shifts are sequential; its shortest-path searches (initial trees, gap
// evaluation) run in parallel and are summed in origin order, so its results do not depend on
// the thread count at all.
//
// The kernel never prints and keeps no global state; progress and cancellation go through the
// callbacks in AssignmentOptions, which are called on the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "smartcore/assignment_vdf.hpp"
#include "smartcore/common.hpp"
#include "smartcore/graph.hpp"

namespace smartcore {

// The network as the assignment sees it (non-owning; the caller keeps the arrays alive).
struct AssignmentNetwork {
    StarView forward;                   // forward star (fs_first, fs_link, fs_head)
    Span<const index_t> tail;           // tail node of every link
    Span<const index_t> head;           // head node of every link
    index_t first_thru_node = 0;        // nodes below it are not passed through
    Span<const index_t> zone_node;      // network node of each demand zone (Z entries)

    index_t num_nodes() const { return forward.num_nodes(); }
    index_t num_links() const { return static_cast<index_t>(tail.size()); }
    index_t num_zones() const { return static_cast<index_t>(zone_node.size()); }
};

// One user class (non-owning).
struct TrafficClass {
    Span<const double> demand;      // Z x Z, row-major, vehicles (finite, >= 0)
    double pce = 1.0;               // passenger car equivalent (> 0)
    Span<const double> fixed_cost;  // per-link fixed generalised cost (time units, >= 0); empty = 0
};

// Algorithm B's origin-based solution: one acyclic bush per (class, origin zone) with that
// origin's link flows (defined in assignment_detail.hpp; opaque here). Immutable once returned,
// so one solution can be shared by threads and by several later analyses or warm starts.
struct BushSolution;

// A previous solution to start from (AssignmentOptions::warm_start). Either part may be empty.
struct WarmStart {
    // Algorithm B's bushes and origin flows (from AssignmentResult::bushes). Algorithm B starts
    // from them: each bush keeps its links and the split of flow at every node, rescaled to the
    // new demand (new origins get a shortest-path tree at the starting costs). Must come from the
    // same network topology and zones (checked: InputError "warm_start").
    std::shared_ptr<const BushSolution> bushes;
    // Link-based start: per class, the previous vehicle flows and the Z x Z demand they carry.
    // The FW family starts from x = r * previous + all-or-nothing(new demand - r * old demand) at
    // the costs of r * previous, where r = min over OD pairs of new / old demand: this is a
    // feasible flow for the new demand whatever changed (r = 1.05 for demand scaled by 1.05, so
    // the start is the scaled previous flow). Algorithm B without bushes starts from
    // shortest-path trees at the previous link costs.
    std::vector<Span<const double>> class_flow;
    std::vector<Span<const double>> demand;
};

enum class Algorithm : int {
    kAllOrNothing = 0,
    kMsa = 1,
    kFrankWolfe = 2,
    kConjugateFrankWolfe = 3,
    kBiconjugateFrankWolfe = 4,
    kBush = 5,
};

struct AssignmentOptions {
    Algorithm algorithm = Algorithm::kBush;
    double target_gap = 1e-10;   // stop when relative gap <= target_gap (0: never on gap)
    int max_iterations = 1000;   // iterations (FW family: loadings; Algorithm B: outer sweeps)
    double time_limit = kInf;    // seconds of wall time (checked between iterations and origins)
    int threads = 0;             // <= 0: hardware concurrency

    // Called after every iteration with (iteration, relative gap); returning false stops the
    // assignment, which then returns the current solution with stop_reason "cancelled".
    std::function<bool(int iteration, double gap)> on_iteration;
    // Polled often (between origins); returning false throws Cancelled (e.g. Ctrl-C).
    std::function<bool()> keep_going;

    // Algorithm B tuning. After the sweep that improves every bush, an outer iteration runs
    // flow-shift sweeps over all bushes until the largest longest-minus-shortest used path cost
    // difference of any bush node falls below bush_sweep_reduction times its value after the
    // first sweep, or bush_inner_sweeps sweeps have run. (Equilibrating bushes further before
    // improving them again wastes work; measured on Anaheim and Chicago-Sketch, 0.02-0.03 is
    // best, with 5-8 outer iterations to 1e-10.)
    int bush_inner_sweeps = 40;
    double bush_sweep_reduction = 0.03;
    // The sweeps also stop once the bushes' own excess cost (sum over bushes of their total cost
    // minus their demand times their shortest bush path costs) is below bush_sweep_excess_ratio
    // times the network excess cost (TSTC - SPTC) of the previous gap evaluation (0: never). The
    // rest of the network gap then lies in links missing from the bushes, which only the next
    // improvement can add. Measured on Philadelphia with the bench's gravity demand (v/c 0.93
    // mean): 3-4 sweeps bring the bushes' excess to 1-3 % of the last network excess, and up to
    // 40 sweeps instead of 4 left the gap reached per outer iteration unchanged (7.8e-3 vs 7.9e-3
    // after 4 iterations) while taking 60-80 % of the run time; with this rule the time to 1e-4
    // halved (11 iterations either way). Anaheim and Chicago-Sketch keep their 6 and 8 iterations
    // to 1e-10 (a fixed cap of 4 sweeps would need 26 and 29).
    double bush_sweep_excess_ratio = 0.01;
    // Once an outer iteration (other than the first) has run bush_extrapolation_after inner
    // sweeps without reaching the reduction above (slow progress: origins strongly coupled by
    // heavy congestion), every bush_extrapolation_sweeps sweeps (0: never) the change of all
    // bush flows since the last extrapolation is extended by an exact line search of the
    // objective over [0, bush_extrapolation_limit] times that change, kept only if the objective
    // decreases (see assignment_bush.cpp). On a congested 50 x 50 grid (v/c 1.5 mean, 3.9 max)
    // it lowers the gap reached in a given CPU time 15-40-fold; the TNTP networks rarely get
    // that far.
    int bush_extrapolation_after = 8;
    int bush_extrapolation_sweeps = 2;
    double bush_extrapolation_limit = 10.0;

    // Return Algorithm B's bushes in AssignmentResult::bushes (for skims, select-link analysis,
    // path flows and warm starts). They take about 16 bytes per bush link plus 8 per bush node
    // (and 16 per destination).
    bool keep_bushes = true;
    // Start from a previous solution (see WarmStart); null: a cold start.
    const WarmStart* warm_start = nullptr;
};

struct AssignmentResult {
    std::vector<double> link_flow;                // total flow per link (PCE)
    std::vector<std::vector<double>> class_flow;  // per class, per link (vehicles)
    std::vector<double> link_time;                // t_a(v_a) per link
    std::vector<double> gap_history;              // relative gap after each iteration
    std::vector<double> iteration_seconds;        // wall time of each iteration (gap evaluation included)
    double relative_gap = kInf;                   // of the returned flows
    double total_cost = 0;          // TSTC: sum_k sum_a y_ka (t_a + f_ka)   (PCE x time)
    double shortest_path_cost = 0;  // SPTC at the returned flows            (PCE x time)
    double total_travel_time = 0;   // TSTT: sum_a v_a t_a(v_a)              (PCE x time)
    double beckmann = 0;            // Beckmann objective (generalised: fixed costs included)
    double average_excess_cost = 0;  // (TSTC - SPTC) / assigned demand (time per PCE trip)
    int iterations = 0;
    bool converged = false;
    std::string stop_reason;        // converged, max_iterations, time_limit, cancelled, all_or_nothing
    // Per class: OD pairs with demand and no path, and their demand (vehicles).
    std::vector<std::int64_t> unreachable_pairs;
    std::vector<double> unreachable_demand;
    std::vector<double> assigned_demand;   // vehicles actually loaded (no intrazonal, no unreachable)
    std::vector<double> intrazonal_demand;  // vehicles with origin node == destination node
    // Algorithm B with keep_bushes: the origin-based solution (null otherwise).
    std::shared_ptr<const BushSolution> bushes;
};

// Solve the assignment. Validates everything (InputError naming the field: "zone_node",
// "demand", "pce", "fixed_cost", "free_flow_time", ...); throws Cancelled when keep_going returns
// false.
AssignmentResult assign(const AssignmentNetwork& net, const LinkPerformanceView& vdf,
                        const std::vector<TrafficClass>& classes, const AssignmentOptions& options);

// ------------------------------------------------------------------------------------------------
// Building blocks (also used by tests and the bindings).

// Link times (and optionally derivatives) at the given flows.
void link_times(const LinkPerformance& perf, Span<const double> flow, Span<double> time,
                Span<double> derivative = {});

// Beckmann objective sum_a integral_0^{v_a} t_a + sum_k sum_a f_ka y_ka for total flows v and the
// classes' PCE flows y (class_flow[k] may be empty when the class has no fixed cost).
double beckmann_objective(const LinkPerformance& perf, Span<const double> flow,
                          const std::vector<Span<const double>>& class_pce_flow,
                          const std::vector<Span<const double>>& fixed_cost);

// Result of one all-or-nothing loading of one class.
struct AonResult {
    std::vector<double> flow;  // PCE flow per link (demand x pce on shortest paths)
    double shortest_path_cost = 0;  // sum demand x pce x shortest path cost
    double assigned_demand = 0;     // vehicles loaded
    double intrazonal_demand = 0;
    double unreachable_demand = 0;
    std::int64_t unreachable_pairs = 0;
};

// All-or-nothing loading of one class on link costs `cost` (finite, >= 0): one shortest-path tree
// per origin zone with demand, every OD demand (times pce) loaded on its tree path. Threads each
// load a static block of origins into their own array; arrays are summed in thread order.
AonResult all_or_nothing(const AssignmentNetwork& net, Span<const double> cost,
                         const TrafficClass& cls, int threads,
                         const std::function<bool()>& keep_going = {});

// ------------------------------------------------------------------------------------------------
// Analysis of a solution (assignment_analysis.cpp). Zones are rows/columns of the demand; Z x Z
// outputs are row-major. All functions validate sizes and ranges (InputError naming the field).
//
// Path flows at equilibrium are not unique (only the link flows are, on links whose cost
// strictly increases with flow). The functions on a BushSolution use one definite
// decomposition of each origin's link flows, the proportional rule: the flow of the origin
// that reaches node j, whatever its destination, arrives over j's incoming bush links in
// proportion to their flows. A path's share of OD flow is then the product of the shares of its
// links, and select-link flows, average skims and path flows all follow from it consistently
// (select-link totals over all OD pairs equal the link flow, path flows of an OD pair sum to its
// demand and, over all destinations, to the origin's link flows).

// Number of bushes, and an estimate of the memory they hold (bytes).
std::int64_t bush_count(const BushSolution& solution);
std::int64_t bush_memory_bytes(const BushSolution& solution);

// Throws InputError("warm_start" or "bushes") unless the solution was computed on a network with
// the same nodes, links (same ends, same order), first_thru_node and zone nodes.
void check_bush_solution(const BushSolution& solution, const AssignmentNetwork& net,
                         const char* field = "bushes");

// Skims along one shortest path per OD pair at link costs `cost` (finite, >= 0): for every
// origin zone o and destination zone d, out[v][o * Z + d] = sum of values[v] over the links of a
// shortest path (zones rule applied); 0 when both zones share a node, +inf without a path. Ties
// between shortest paths are broken by the search (deterministic for a network).
void shortest_path_skims(const AssignmentNetwork& net, Span<const double> cost,
                         const std::vector<Span<const double>>& values,
                         const std::vector<Span<double>>& out, int threads);

// Flow-weighted average skims of class `cls` over the paths its origin-based flows use
// (proportional rule above): out[v][o * Z + d] = expected sum of values[v] along the path of a
// trip from o to d. Written only for OD pairs with assigned demand in the class; other entries
// are left as they are (fill them with shortest_path_skims first).
void bush_average_skims(const BushSolution& solution, int cls,
                        const std::vector<Span<const double>>& values,
                        const std::vector<Span<double>>& out, int threads);

// Select-link analysis: out[o * Z + d] += flow from o to d whose path uses at least one of
// `links` (proportional rule). cls >= 0: that class, in vehicles; cls = -1: all classes, in PCE
// (then the totals over OD pairs of a single link equal the total link flow).
void select_link(const BushSolution& solution, int cls, Span<const index_t> links, Span<double> out,
                 int threads);

// One path and its flow (vehicles of the class).
struct PathFlow {
    std::vector<index_t> links;  // from the origin to the destination
    double flow = 0;
};

// Path flows of class `cls` from origin zone to destination zone (proportional rule), paths in
// depth-first order over each node's incoming bush links (in bush order). Paths with flow below
// min_flow are left out. Throws InputError("max_paths") when there would be more than max_paths.
// Empty when the pair has no assigned demand.
std::vector<PathFlow> bush_path_flows(const BushSolution& solution, int cls, index_t origin_zone,
                                      index_t destination_zone, std::int64_t max_paths,
                                      double min_flow = 0.0);

// The link flows (vehicles) of class `cls` that start at origin zone `origin_zone` (0 when the
// zone has no bush).
void bush_origin_flows(const BushSolution& solution, int cls, index_t origin_zone, Span<double> out);

}  // namespace smartcore
