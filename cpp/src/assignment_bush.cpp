// Algorithm B (Dial, R.B., "A path-based user-equilibrium traffic assignment algorithm that
// obviates path storage and enumeration", Transportation Research Part B 40(10), 917-936, 2006).
//
// One bush per (class, origin): an acyclic subnetwork, rooted at the origin, spanning every node
// the origin can reach, that carries all of the origin's flow. The algorithm alternates
//   * bush improvement: drop links without flow (but keep each node's shortest bush link so the
//     bush still spans its nodes), then add every link (i, j) with U_i + c_ij < U_j, where U is the
//     longest-path label over the remaining bush links. Existing links satisfy U_j >= U_i + c_ij
//     and added links U_j > U_i + c_ij with c >= 0, so U never decreases along a bush link and
//     strictly increases along an added one: no cycle can form, zero-cost links included (Dial's
//     argument). If the bush is equilibrated but not optimal on the network, some link passes the
//     test (the bush's shortest-path labels violate Bellman's condition somewhere), so the
//     improvement never stalls short of equilibrium;
//   * flow shifts: shortest (SP) and longest used (LP) path labels in topological order; then, in
//     descending topological order, at every node whose SP and LP predecessors differ, move flow
//     from the LP segment to the SP segment back to their divergence node (the last common node:
//     walking both segments back by topological position finds it without marks). The amount is
//     one Newton step on the segment cost difference, (C_lp - C_sp) / (sum of link derivatives),
//     clipped to the flow the LP segment carries. Link times and derivatives are updated after
//     every shift ("exact cost update"), as in Boyles' tap-b implementation of Algorithm B.
//
// Outer iteration: improve every bush (in parallel, at the costs of the iteration start), shift
// flows on each once, then sweep flow shifts over all bushes until the largest LP - SP label
// difference has dropped to AssignmentOptions::bush_sweep_reduction of its value after the first
// sweep, or the bushes' own excess cost to bush_sweep_excess_ratio of the last network excess
// (or the sweep cap); then evaluate the relative gap exactly: network shortest paths per bush,
// warm-started from the bush's own shortest-path labels (see shortest_path_cost()), in parallel
// over bushes.
//
// Large networks (Philadelphia, 13,389 nodes, 1,525 origins, bench gravity demand with v/c 0.93
// mean; 2 threads on a shared machine): an outer iteration roughly halves the gap there (0.69,
// 0.077, 0.023, 8.5e-3, ... 7e-5 after 11), whatever the number of sweeps. Before the excess
// rule the sweeps were 60-80 % of the time (10-40 per iteration at 0.37 s each); with it 2-17,
// and the time to 1e-4 fell from 142 s to 72 s with the same 11 iterations. Adding, besides
// Dial's links, the shortcuts for the shortest bush paths that go forward in the bush's
// topological order (acyclic by construction) changed neither the bush sizes nor the gap per
// iteration there, so it is not done. Per iteration the rest is the improvement (about 2 s) and
// the gap evaluation (1-3 s).
//
// Heavy congestion. Measured on a 50 x 50 grid with 150 zones (v/c 1.5 mean, 3.9 max): a single
// bush equilibrates geometrically when the others are frozen (its max LP - SP halves per pass),
// but a sweep over all bushes barely lowers the largest difference, and 85 % of the remaining gap
// sits inside the bushes, not in missing links: the origins are strongly coupled through the
// shared link costs, and the Gauss-Seidel pass over them converges linearly and slowly (the
// objective fell by about 0.5 % of its excess per sweep). Repeating passes on one bush, fewer or
// more sweeps per improvement, and over-relaxed Newton steps changed little (over-relaxation
// 1.3: 2x at best), and so did skipping nodes whose difference is small against the bush's
// largest. What helps is extrapolation across sweeps (extrapolate()): once an outer iteration is
// slow (bush_extrapolation_after sweeps without reaching the reduction target), every
// bush_extrapolation_sweeps sweeps the change of all bush flows is extended by an exact line
// search. Measured (CPU time, one thread): 50 x 50 grid after 67 s, gap 8e-7 (stalled near 1e-6)
// -> 2e-8 to 6e-8; a two-class congested case that stalls at 1.7e-8 converges to 1e-10 (C++
// test). On the 100 x 100 grid with 300 zones (bench --grid; v/c 3 mean, 7.5 max) it gains
// early (it. 40: 2.2e-5 vs 3.1e-5) but not later: 1.3e-5 vs 1.1e-5 after 1000 s; that case
// stays slow (linear convergence, about 10 s per iteration). Networks that converge fast (the
// TNTP set) rarely trigger it. Nodes whose shortest and longest used predecessor link coincide
// inherit their difference from upstream and are not listed for shifts (they were 80 % of the
// listed nodes on the grid).
//
// Warm starts (AssignmentOptions::warm_start): bushes are copied from the previous solution and
// rectified to the new demand (each node keeps the split of its flow over its incoming links);
// origins without a previous bush get a tree at the starting costs (see initialise()).
//
// Robustness details:
//   * LP labels run only over links with flow whose tail has an LP label (the origin, or a node
//     with used incoming links): a rounding residue left on a link is never taken for a path, so
//     a segment never contains a link without flow (which would block every shift at that node).
//   * Once per outer iteration, bush flows are rectified: node throughflows are recomputed from
//     the demand in descending topological order and each node's incoming flows rescaled to
//     them (shares below 1e-14 dropped), restoring exact conservation after many rounded shifts.
//   * Zero-cost links and zero-cost cycles are safe: acyclicity rests on the U argument above,
//     not on positive costs; shifts between segments without derivative (constant costs) move
//     the whole segment flow to the cheaper side.
//   * The zones rule: links leaving a zone other than the bush's origin are never added.
//
// Data layout: a bush is its topological order plus, for each position, the contiguous list of
// incoming bush links (link, tail, flow), so label scans are linear passes over three arrays.
// Bush flows are stored per link (not as proportions); the total link flows are recomputed from
// the bushes (in bush order, so deterministically) before each gap evaluation, so rounding drift
// of the incremental updates never reaches a reported gap. Flow shifts are sequential (they
// change the link costs every later shift sees), so results do not depend on the thread count;
// threads speed up the initial trees, the bush improvements (each reads only the link costs and
// its own bush; per-worker workspaces) and the gap evaluation. (Shifting a fixed batch of
// origins in parallel against frozen costs, then adding their changes, would be deterministic,
// but it is a Jacobi step: each origin's Newton step ignores the others' on shared links and
// can overshoot by up to the batch size under congestion, where the time goes, so it would need
// damping. Not implemented: the shifts stay sequential.)
//
// Memory. On Philadelphia (above; 2 threads) the bushes are nearly trees that span all nodes
// (16,800 links per bush after the first improvement, 13,900 at gap 1e-3), so a bush costs about
// as much per node as per link. The peak resident size while solving to 1e-3 (bench
// --memory) was 989 MB; it is now 679 MB, of which the bushes hold 594 MB after the first
// improvement (37 MB of it their destination lists) and the OD lists 37 MB. What went:
//   * slack: rebuild() swapped the new arrays with the worker's buffers, handing each bush a
//     buffer sized for an earlier, larger bush: 844 MB of capacity for 527 MB of entries. The
//     arrays are now copied to exact size;
//   * heap holes: most bushes are rebuilt in every iteration with another size; with malloc the
//     freed arrays stayed as holes that larger arrays (or the other thread) could not reuse, 180
//     MB above the bushes after the first improvement. Bush arrays are mapped from the OS (see
//     BushAllocator in assignment_detail.hpp), so the resident size follows the bushes;
//   * the extrapolation snapshot: one array, taken only in iterations that extrapolate (never
//     the first, see run()) and released after the sweeps (195 MB, held from the first
//     iteration to the end before).
// What is left per bush: order and in_first, 8 bytes per node; in_link, in_tail and in_flow, 16
// bytes per link; the destinations, 16 bytes each. Kept although it could go: in_tail (4 bytes
// per link, 100 MB on Philadelphia at the first iteration: 578 MB peak without it), since
// reading tails from the network through the link, one more dependent load in the label scans,
// made the sweep-bound congested grid 13 % slower (bench grid50, 30 iterations on one thread:
// 21.6 s vs 19.1 s, twice each, identical gaps). (Storing in-degrees in 8 or 16 bits instead of
// in_first would save 2-3 bytes per node, 40-60 MB there; not done.)
// Time (bench, 2 threads, before/after back to back on the shared 2-core machine): Philadelphia
// to 1e-4/1e-6/1e-8/1e-10 69/158/181/220 s before, 72/134/167/208 s after, in 11/18/22/25 and
// 11/18/23/26 iterations (the first iteration no longer extrapolates, and the gap trajectories
// then differ either way: after 18 iterations 4.5e-7 now vs 7.0e-7, after 22 8.2e-8 vs 4.7e-9,
// though 1.1e-8 after 23 before), 8.8 vs 8.0 s per iteration (an earlier pair, without in_tail:
// 7.5 vs 7.6); grid50 19.1 s for 30 iterations before and after (its trajectory unchanged);
// ChicagoSketch 0.54 s to 1e-10 before, 0.50 s after; Anaheim 0.015 s both.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include "smartcore/assignment_detail.hpp"

namespace smartcore::detail {

namespace {


// Per-node and per-link scratch arrays of one worker. Node-indexed arrays hold the labels of the
// bush last scanned; node_flow_ and indeg_ are kept all-zero between uses; the marks use stamps
// so they are never cleared.
struct Workspace {
    std::vector<double> sp_, lp_;
    std::vector<index_t> sp_pos_, lp_pos_, pos_;
    std::vector<double> node_flow_;
    std::vector<index_t> work_;  // nodes to shift at, in topological order (from scan)
    std::vector<index_t> indeg_, out_first_, out_link_;
    std::vector<std::uint32_t> node_mark_, link_mark_;
    std::uint32_t node_stamp_ = 0, link_stamp_ = 0;
    std::vector<index_t> keep_links_;
    std::vector<double> keep_flows_;
    std::vector<index_t> new_order_, new_in_first_, new_in_link_, new_in_tail_;
    std::vector<double> new_in_flow_;

    void resize(std::size_t n, std::size_t m) {
        sp_.assign(n, 0.0);
        lp_.assign(n, 0.0);
        sp_pos_.assign(n, kInvalidIndex);
        lp_pos_.assign(n, kInvalidIndex);
        pos_.assign(n, kInvalidIndex);
        node_flow_.assign(n, 0.0);
        indeg_.assign(n, 0);
        out_first_.assign(n + 1, 0);
        node_mark_.assign(n, 0);
        link_mark_.assign(m, 0);
    }
    std::uint32_t next_node_stamp() {
        if (++node_stamp_ == 0) {
            std::fill(node_mark_.begin(), node_mark_.end(), 0u);
            node_stamp_ = 1;
        }
        return node_stamp_;
    }
    std::uint32_t next_link_stamp() {
        if (++link_stamp_ == 0) {
            std::fill(link_mark_.begin(), link_mark_.end(), 0u);
            link_stamp_ = 1;
        }
        return link_stamp_;
    }
};

class BushSolver {
public:
    BushSolver(const Problem& pb, const AssignmentOptions& opt)
        : pb_(pb), net_(*pb.net), opt_(opt), engine_(pb, opt.threads) {
        const std::size_t n = static_cast<std::size_t>(pb.n), m = static_cast<std::size_t>(pb.m);
        const int K = pb.num_classes();
        v_.assign(m, 0.0);
        t_.assign(m, 0.0);
        dt_.assign(m, 0.0);
        cost_.assign(K, std::vector<double>(m, 0.0));
        // One workspace per worker: the bush improvements run in parallel (see run()).
        ws_.resize(static_cast<std::size_t>(engine_.threads()));
        for (Workspace& w : ws_) w.resize(n, m);
        res_.unreachable_pairs.assign(K, 0);
        res_.unreachable_demand.assign(K, 0.0);
        res_.assigned_demand.assign(K, 0.0);
        res_.intrazonal_demand.assign(K, 0.0);
    }

    AssignmentResult run();

private:
    void initialise();
    void set_link_flow(index_t a, double flow) {
        v_[a] = flow;
        double t, d;
        pb_.perf.time_and_derivative(a, flow, t, d);
        t_[a] = t;
        dt_[a] = d;
        for (std::size_t k = 0; k < cost_.size(); ++k) cost_[k][a] = t + pb_.fixed[k][a];
    }
    void shift_link(index_t a, double delta) { set_link_flow(a, v_[a] + delta); }
    void recompute_link_flows(std::vector<std::vector<double>>& class_flow);
    double scan(const Bush& b, Workspace& wk);  // labels; fills work_; returns max LP - SP
    void shift(Bush& b, Workspace& wk);
    bool improve(Bush& b, Workspace& wk);
    void rebuild(Bush& b, std::vector<index_t>& links, std::vector<double>& flows, Workspace& wk) const;
    void load_tree_flows(Bush& b, Workspace& wk) const;
    void sp_labels(const Bush& b, Workspace& wk) const;  // sp_ and sp_pos_ over all bush links
    void rectify(Bush& b, Workspace& wk) const;          // needs sp_pos_ (sp_labels) of the bush
    void make_solution();
    void snapshot();
    bool extrapolate();
    double objective() const;
    double shortest_path_cost();
    struct SpWorkspace {  // per worker, for shortest_path_cost()
        std::vector<double> dist;
        std::vector<std::pair<double, index_t>> heap;
    };
    double bush_shortest_path_cost(const Bush& b, SpWorkspace& ws) const;
    void poll() {
        if (opt_.keep_going && !opt_.keep_going()) throw Cancelled();
    }

    const Problem& pb_;
    const AssignmentNetwork& net_;
    const AssignmentOptions& opt_;
    TreeEngine engine_;
    AssignmentResult res_;
    std::vector<Bush> bushes_;

    std::vector<double> v_, t_, dt_;          // total flow (PCE), time, derivative
    std::vector<std::vector<double>> cost_;   // per class: t + fixed

    double scan_excess_ = 0.0;  // excess cost of the bush last scanned: its TSTC - its SPTC
    std::vector<Workspace> ws_;  // per worker; ws_[0] for the sequential phases
    std::vector<SpWorkspace> sp_ws_;  // per worker
    // Bush flows at the last snapshot, all bushes back to back in bush order (the bushes do not
    // change shape during the sweeps). Empty outside the sweeps that extrapolate.
    std::vector<double> prev_flow_;
    std::vector<double> v_prev_, dir_;           // total flows at the snapshot; direction
};

// ------------------------------------------------------------------------------------------------
// Construction: one shortest-path tree per origin at free-flow costs, loaded all-or-nothing.

void BushSolver::initialise() {
    Workspace& wk = ws_[0];
    const int K = pb_.num_classes();
    const WarmStart* warm = opt_.warm_start;
    const BushSolution* ws = warm && warm->bushes ? warm->bushes.get() : nullptr;
    // Starting link flows: those of the warm bushes, else of the warm link flows, else zero.
    std::fill(v_.begin(), v_.end(), 0.0);
    if (ws) {
        for (const Bush& b : ws->bushes)
            for (std::size_t p = 0; p < b.in_link.size(); ++p) v_[b.in_link[p]] += b.in_flow[p];
    } else if (warm && !warm->class_flow.empty()) {
        for (int k = 0; k < K; ++k)
            for (std::size_t a = 0; a < v_.size(); ++a) v_[a] += pb_.pce[k] * warm->class_flow[k][a];
    }
    for (std::size_t a = 0; a < v_.size(); ++a) set_link_flow(static_cast<index_t>(a), v_[a]);
    std::vector<std::size_t> warm_bushes;  // bushes taken from the warm start (to rectify)
    for (int k = 0; k < K; ++k) {
        const OdList& od = pb_.od[k];
        res_.intrazonal_demand[k] = od.intrazonal;
        double total = 0.0;
        // Origins without a warm bush get a shortest-path tree at the starting costs. Trees are
        // computed in blocks of origins, so that their node-indexed predecessor arrays never all
        // exist at once (a block is far smaller than the bushes built from it).
        const std::size_t block = 256;
        std::vector<std::int64_t> need;  // origins (indices into od.origins) of the current block
        std::vector<std::vector<index_t>> pred;
        std::size_t next_block = 0;
        for (std::size_t i = 0; i < od.origins.size(); ++i) {
            const OdList::Origin& org = od.origins[i];
            const index_t wb = ws ? ws->bush_of_zone[static_cast<std::size_t>(k)][static_cast<std::size_t>(org.zone)]
                                  : kInvalidIndex;
            Bush b;
            const std::vector<index_t>* pr = nullptr;
            if (wb != kInvalidIndex) {
                b = ws->bushes[static_cast<std::size_t>(wb)];
                b.dest.clear();
                b.dest_zone.clear();
                b.dest_demand.clear();
                const std::uint32_t ns = wk.next_node_stamp();
                for (index_t u : b.order) wk.node_mark_[u] = ns;
                for (std::int64_t d = org.first; d < org.last; ++d) {
                    const std::size_t di = static_cast<std::size_t>(d);
                    total += od.dest_demand[di];
                    if (wk.node_mark_[od.dest_node[di]] != ns) {  // the bush spans the reachable set
                        ++res_.unreachable_pairs[k];
                        res_.unreachable_demand[k] += od.dest_demand[di];
                    } else {
                        b.dest.push_back(od.dest_node[di]);
                        b.dest_zone.push_back(od.dest_zone[di]);
                        b.dest_demand.push_back(od.dest_demand[di]);
                    }
                }
                if (b.dest.empty()) continue;
                warm_bushes.push_back(bushes_.size());
                bushes_.push_back(std::move(b));
                continue;
            }
            if (i >= next_block) {
                // Trees for the origins of [i, i + block) that need one.
                next_block = std::min(i + block, od.origins.size());
                need.clear();
                for (std::size_t j = i; j < next_block; ++j) {
                    const index_t wj = ws ? ws->bush_of_zone[static_cast<std::size_t>(k)]
                                                            [static_cast<std::size_t>(od.origins[j].zone)]
                                          : kInvalidIndex;
                    if (wj == kInvalidIndex) need.push_back(static_cast<std::int64_t>(j));
                }
                pred = engine_.trees(k, cost_[k], need, opt_.keep_going);
            }
            const std::size_t slot = static_cast<std::size_t>(
                std::lower_bound(need.begin(), need.end(), static_cast<std::int64_t>(i)) - need.begin());
            pr = &pred[slot];
            b.cls = k;
            b.zone = org.zone;
            b.origin = org.node;
            for (std::int64_t d = org.first; d < org.last; ++d) {
                const std::size_t di = static_cast<std::size_t>(d);
                const index_t node = od.dest_node[di];
                const double x = od.dest_demand[di];
                total += x;
                if ((*pr)[node] == kInvalidIndex) {
                    ++res_.unreachable_pairs[k];
                    res_.unreachable_demand[k] += x;
                } else {
                    b.dest.push_back(node);
                    b.dest_zone.push_back(od.dest_zone[di]);
                    b.dest_demand.push_back(x);
                }
            }
            if (b.dest.empty()) continue;  // nothing reachable to assign
            std::vector<index_t> links;
            for (std::size_t u = 0; u < pr->size(); ++u)
                if ((*pr)[u] != kInvalidIndex) links.push_back((*pr)[u]);
            std::vector<double> flows(links.size(), 0.0);
            // The node set of a bush is fixed at construction: its reachable set. rebuild() reads
            // it from b.order, so seed it here (any order; rebuild sorts topologically).
            b.order.push_back(b.origin);
            for (std::size_t u = 0; u < pr->size(); ++u)
                if ((*pr)[u] != kInvalidIndex) b.order.push_back(static_cast<index_t>(u));
            rebuild(b, links, flows, wk);
            load_tree_flows(b, wk);
            bushes_.push_back(std::move(b));
        }
        res_.unreachable_demand[k] /= pb_.pce[k];
        res_.assigned_demand[k] = total / pb_.pce[k] - res_.unreachable_demand[k];
    }
    // Warm bushes carry the flows of the previous demand: rescale them to the new demand, keeping
    // the split of each node's flow over its incoming links (nodes that carried nothing before
    // take their shortest bush link at the starting costs).
    for (std::size_t i : warm_bushes) {
        sp_labels(bushes_[i], wk);
        rectify(bushes_[i], wk);
    }
    std::vector<std::vector<double>> unused;
    recompute_link_flows(unused);
}

// Flows of a tree bush: each node's demand plus everything its subtree carries, pushed onto its
// single incoming link in descending topological order.
void BushSolver::load_tree_flows(Bush& b, Workspace& wk) const {
    const std::size_t N = b.order.size();
    for (std::size_t i = 0; i < b.dest.size(); ++i) wk.node_flow_[b.dest[i]] += b.dest_demand[i];
    for (std::size_t k = N; k-- > 1;) {
        const index_t j = b.order[k];
        const double f = wk.node_flow_[j];
        wk.node_flow_[j] = 0.0;
        const index_t p = b.in_first[k];  // exactly one incoming link
        b.in_flow[p] = f;
        wk.node_flow_[b.in_tail[p]] += f;
    }
    wk.node_flow_[b.origin] = 0.0;
}

void BushSolver::recompute_link_flows(std::vector<std::vector<double>>& class_flow) {
    const std::size_t m = v_.size();
    std::fill(v_.begin(), v_.end(), 0.0);
    const bool per_class = !class_flow.empty();
    if (per_class)
        for (auto& y : class_flow) std::fill(y.begin(), y.end(), 0.0);
    for (const Bush& b : bushes_) {
        double* y = per_class ? class_flow[b.cls].data() : nullptr;
        for (std::size_t p = 0; p < b.in_link.size(); ++p) {
            v_[b.in_link[p]] += b.in_flow[p];
            if (y) y[b.in_link[p]] += b.in_flow[p];
        }
    }
    for (std::size_t a = 0; a < m; ++a) set_link_flow(static_cast<index_t>(a), v_[a]);
}

// ------------------------------------------------------------------------------------------------
// Labels: SP over all bush links, LP over bush links with flow (a node without used incoming
// links takes its SP label and predecessor). Returns max_j (LP_j - SP_j).

double BushSolver::scan(const Bush& b, Workspace& wk) {
    const double* c = cost_[b.cls].data();
    const index_t o = b.origin;
    wk.sp_[o] = 0.0;
    wk.lp_[o] = 0.0;
    wk.pos_[o] = 0;
    double maxdiff = 0.0, cost = 0.0;
    wk.work_.clear();
    const std::size_t N = b.order.size();
    const index_t* first = b.in_first.data();
    const index_t* link = b.in_link.data();
    const index_t* tail = b.in_tail.data();
    const double* flow = b.in_flow.data();
    for (std::size_t k = 1; k < N; ++k) {
        const index_t j = b.order[k];
        wk.pos_[j] = static_cast<index_t>(k);
        double bs = kInf, bl = -kInf;
        index_t ps = kInvalidIndex, pl = kInvalidIndex;
        for (index_t p = first[k], end = first[k + 1]; p < end; ++p) {
            const index_t i = tail[p];
            const double ca = c[link[p]];
            const double s = wk.sp_[i] + ca;
            if (s < bs) {
                bs = s;
                ps = p;
            }
            // lp_[i] == -inf: no used path reaches i (a rounding residue on (i, j) is not a path).
            if (flow[p] > 0.0) {
                cost += flow[p] * ca;
                const double l = wk.lp_[i] + ca;
                if (l > bl) {
                    bl = l;
                    pl = p;
                }
            }
        }
        wk.sp_[j] = bs;
        wk.lp_[j] = bl;
        wk.sp_pos_[j] = ps;
        wk.lp_pos_[j] = pl;
        // Nodes where the longest used path is dearer than the shortest: the shift pass visits
        // only these (pl == -1 gives bl = -inf, never listed).
        if (bl - bs > 0.0) {
            // With one predecessor for both, the difference is inherited from upstream and the
            // segments coincide: nothing to shift here.
            if (pl != ps) wk.work_.push_back(j);
            if (bl - bs > maxdiff) maxdiff = bl - bs;
        }
    }
    double spc = 0.0;
    for (std::size_t i = 0; i < b.dest.size(); ++i) spc += b.dest_demand[i] * wk.sp_[b.dest[i]];
    scan_excess_ = cost - spc;
    return maxdiff;
}

// Newton flow shifts in descending topological order at the nodes the last scan of this bush
// listed (labels from that scan).
void BushSolver::shift(Bush& b, Workspace& wk) {
    const double* c = cost_[b.cls].data();
    const index_t* link = b.in_link.data();
    const index_t* tail = b.in_tail.data();
    double* flow = b.in_flow.data();
    for (std::size_t w = wk.work_.size(); w-- > 0;) {
        const index_t j = wk.work_[w];
        const index_t ps = wk.sp_pos_[j], pl = wk.lp_pos_[j];
        // Divergence node: step back along whichever segment is topologically further.
        index_t is = tail[ps], il = tail[pl];
        while (is != il) {
            if (wk.pos_[is] > wk.pos_[il]) is = tail[wk.sp_pos_[is]];
            else il = tail[wk.lp_pos_[il]];
        }
        const index_t div = is;
        double cl = 0.0, dl = 0.0, fl = kInf;
        for (index_t p = pl;;) {
            const index_t a = link[p];
            cl += c[a];
            dl += dt_[a];
            fl = std::min(fl, flow[p]);
            const index_t i = tail[p];
            if (i == div) break;
            p = wk.lp_pos_[i];
        }
        double cs = 0.0, ds = 0.0, fs = kInf;
        for (index_t p = ps;;) {
            const index_t a = link[p];
            cs += c[a];
            ds += dt_[a];
            fs = std::min(fs, flow[p]);
            const index_t i = tail[p];
            if (i == div) break;
            p = wk.sp_pos_[i];
        }
        const double dc = cl - cs;
        // Differences at the rounding level of the segment costs are noise, not a direction.
        if (std::fabs(dc) <= 1e-15 * (cl + cs)) continue;
        const double den = dl + ds;
        double delta;
        if (den > 0.0) delta = dc / den;
        else delta = dc > 0.0 ? fl : -fs;  // constant costs: move everything to the cheaper side
        delta = std::min(delta, fl);
        delta = std::max(delta, -fs);
        if (delta == 0.0) continue;
        // flow[p] >= fl >= delta on the LP segment (and >= fs >= -delta on the SP segment), so
        // no bush flow becomes negative; the clipped link reaches exactly 0.
        for (index_t p = pl;;) {
            flow[p] -= delta;
            shift_link(link[p], -delta);
            const index_t i = tail[p];
            if (i == div) break;
            p = wk.lp_pos_[i];
        }
        for (index_t p = ps;;) {
            flow[p] += delta;
            shift_link(link[p], delta);
            const index_t i = tail[p];
            if (i == div) break;
            p = wk.sp_pos_[i];
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Bush improvement (see the file comment). Returns true when the bush changed.

void BushSolver::sp_labels(const Bush& b, Workspace& wk) const {
    const double* c = cost_[b.cls].data();
    const std::size_t N = b.order.size();
    wk.sp_[b.origin] = 0.0;
    for (std::size_t k = 1; k < N; ++k) {
        double bs = kInf;
        index_t ps = kInvalidIndex;
        for (index_t p = b.in_first[k], hi = b.in_first[k + 1]; p < hi; ++p) {
            const double s = wk.sp_[b.in_tail[p]] + c[b.in_link[p]];
            if (s < bs) {
                bs = s;
                ps = p;
            }
        }
        wk.sp_[b.order[k]] = bs;
        wk.sp_pos_[b.order[k]] = ps;
    }
}

// Recompute every node's throughflow from the demand (descending order) and rescale its incoming
// flows to it, dropping shares below 1e-14 of it. Flow shifts conserve flow only up to rounding;
// this restores exact conservation once per iteration, so rounding residues never accumulate or
// keep dead links in the bush. (The total link flows are recomputed from the bushes before the
// gap is evaluated.) A node that must carry flow but has none coming in takes it on its shortest
// bush link (warm starts with new destinations).
void BushSolver::rectify(Bush& b, Workspace& wk) const {
    const std::size_t N = b.order.size();
    for (std::size_t i = 0; i < b.dest.size(); ++i) wk.node_flow_[b.dest[i]] += b.dest_demand[i];
    for (std::size_t k = N; k-- > 1;) {
        const index_t j = b.order[k];
        const double nf = wk.node_flow_[j];
        wk.node_flow_[j] = 0.0;
        const index_t lo = b.in_first[k], hi = b.in_first[k + 1];
        double total = 0.0, kept_flow = 0.0;
        for (index_t p = lo; p < hi; ++p) total += b.in_flow[p];
        if (nf > 0.0 && total > 0.0) {
            for (index_t p = lo; p < hi; ++p)
                if (b.in_flow[p] >= 1e-14 * total) kept_flow += b.in_flow[p];
                else b.in_flow[p] = 0.0;
            const double scale = nf / kept_flow;
            for (index_t p = lo; p < hi; ++p) b.in_flow[p] *= scale;
        } else {
            for (index_t p = lo; p < hi; ++p) b.in_flow[p] = 0.0;
            if (nf > 0.0) b.in_flow[wk.sp_pos_[j]] = nf;
        }
        for (index_t p = lo; p < hi; ++p) wk.node_flow_[b.in_tail[p]] += b.in_flow[p];
    }
    wk.node_flow_[b.origin] = 0.0;
}

bool BushSolver::improve(Bush& b, Workspace& wk) {
    const double* c = cost_[b.cls].data();
    const index_t o = b.origin;
    const std::size_t N = b.order.size();
    // 1. Shortest-path labels over all bush links; 2. exact conservation (rectify).
    sp_labels(b, wk);
    rectify(b, wk);
    // 3. Drop links without flow except each node's shortest-path link; longest-path labels U
    // (in lp_) over the links that stay.
    const std::uint32_t ns = wk.next_node_stamp(), ls = wk.next_link_stamp();
    wk.keep_links_.clear();
    wk.keep_flows_.clear();
    wk.lp_[o] = 0.0;
    wk.node_mark_[o] = ns;
    std::size_t removed = 0;
    for (std::size_t k = 1; k < N; ++k) {
        const index_t j = b.order[k];
        wk.node_mark_[j] = ns;
        const index_t ps = wk.sp_pos_[j];
        double u = -kInf;
        for (index_t p = b.in_first[k], hi = b.in_first[k + 1]; p < hi; ++p) {
            if (b.in_flow[p] > 0.0 || p == ps) {
                const index_t a = b.in_link[p];
                u = std::max(u, wk.lp_[b.in_tail[p]] + c[a]);
                wk.link_mark_[a] = ls;
                wk.keep_links_.push_back(a);
                wk.keep_flows_.push_back(b.in_flow[p]);
            } else {
                ++removed;
            }
        }
        wk.lp_[j] = u;
    }
    // Shortcuts: links (i, j) between bush nodes with U_i + c_ij < U_j. Links leaving a zone
    // other than the origin are never added (zones rule).
    const std::size_t kept = wk.keep_links_.size();
    const index_t first_thru = net_.first_thru_node;
    const StarView& fs = net_.forward;
    for (std::size_t k = 0; k < N; ++k) {
        const index_t i = b.order[k];
        if (i < first_thru && i != o) continue;
        const double ui = wk.lp_[i];
        for (index_t e = fs.first[i], end = fs.first[i + 1]; e < end; ++e) {
            const index_t a = fs.link[e];
            const index_t j = fs.other[e];
            if (wk.link_mark_[a] == ls || wk.node_mark_[j] != ns) continue;
            const double uj = wk.lp_[j];
            if (ui + c[a] < uj - 1e-14 * uj) {
                wk.link_mark_[a] = ls;
                wk.keep_links_.push_back(a);
                wk.keep_flows_.push_back(0.0);
            }
        }
    }
    if (removed == 0 && wk.keep_links_.size() == kept) return false;
    rebuild(b, wk.keep_links_, wk.keep_flows_, wk);
    return true;
}

// Rebuild the bush from a set of links (with their flows) on its node set (b.order, any order):
// Kahn's topological sort from the origin, then incoming lists grouped by head position.
void BushSolver::rebuild(Bush& b, std::vector<index_t>& links, std::vector<double>& flows,
                         Workspace& wk) const {
    const std::size_t L = links.size();
    const BushArray<index_t>& nodes = b.order;
    // Out-adjacency by counting sort on tail (node-indexed arrays, reset over the node set only).
    for (index_t v : nodes) {
        wk.out_first_[v] = 0;
        wk.indeg_[v] = 0;
    }
    for (std::size_t q = 0; q < L; ++q) {
        ++wk.out_first_[net_.tail[links[q]]];
        ++wk.indeg_[net_.head[links[q]]];
    }
    // Exclusive prefix sums over the node set, in node-set order (positions are arbitrary but
    // each node gets a private range).
    index_t acc = 0;
    for (index_t v : nodes) {
        const index_t c = wk.out_first_[v];
        wk.out_first_[v] = acc;
        acc += c;
    }
    wk.out_link_.resize(L);
    // out_first_[v] now points at the next free slot of v; after filling, at the end of its range.
    for (std::size_t q = 0; q < L; ++q) wk.out_link_[wk.out_first_[net_.tail[links[q]]]++] = static_cast<index_t>(q);
    // Kahn's algorithm. The range of v is [out_first_[v] - outdeg(v), out_first_[v]); recover
    // the start from the end by walking back over entries whose tail is v.
    wk.new_order_.clear();
    wk.new_order_.push_back(b.origin);
    if (wk.indeg_[b.origin] != 0)
        throw std::logic_error("Algorithm B: a bush link enters its origin");
    for (std::size_t qi = 0; qi < wk.new_order_.size(); ++qi) {
        const index_t i = wk.new_order_[qi];
        index_t end = wk.out_first_[i];
        for (index_t s = end; s > 0 && net_.tail[links[wk.out_link_[s - 1]]] == i; --s) {
            const index_t j = net_.head[links[wk.out_link_[s - 1]]];
            if (--wk.indeg_[j] == 0) wk.new_order_.push_back(j);
        }
    }
    if (wk.new_order_.size() != nodes.size())
        throw std::logic_error("Algorithm B: bush is not acyclic or does not span its nodes (internal error)");
    // Incoming lists by head position.
    const std::size_t N = wk.new_order_.size();
    for (std::size_t k = 0; k < N; ++k) wk.pos_[wk.new_order_[k]] = static_cast<index_t>(k);
    wk.new_in_first_.assign(N + 1, 0);
    for (std::size_t q = 0; q < L; ++q) ++wk.new_in_first_[wk.pos_[net_.head[links[q]]] + 1];
    for (std::size_t k = 0; k < N; ++k) wk.new_in_first_[k + 1] += wk.new_in_first_[k];
    wk.new_in_link_.resize(L);
    wk.new_in_tail_.resize(L);
    wk.new_in_flow_.resize(L);
    // Fill using out_first_ as a cursor store is not possible (it is node-indexed); use indeg_
    // (all zero now) as per-node fill counters.
    for (std::size_t q = 0; q < L; ++q) {
        const index_t a = links[q];
        const index_t h = net_.head[a];
        const index_t slot = wk.new_in_first_[wk.pos_[h]] + wk.indeg_[h]++;
        wk.new_in_link_[slot] = a;
        wk.new_in_tail_[slot] = net_.tail[a];
        wk.new_in_flow_[slot] = flows[q];
    }
    for (index_t v : wk.new_order_) wk.indeg_[v] = 0;
    // Copied into exactly sized arrays, not swapped with the workspace's: swapping hands the bush
    // a buffer sized for whichever bush used it before: on Philadelphia the bushes held 844 MB of
    // capacity for 527 MB of entries.
    b.order = BushArray<index_t>(wk.new_order_.begin(), wk.new_order_.end());
    b.in_first = BushArray<index_t>(wk.new_in_first_.begin(), wk.new_in_first_.end());
    b.in_link = BushArray<index_t>(wk.new_in_link_.begin(), wk.new_in_link_.end());
    b.in_tail = BushArray<index_t>(wk.new_in_tail_.begin(), wk.new_in_tail_.end());
    b.in_flow = BushArray<double>(wk.new_in_flow_.begin(), wk.new_in_flow_.end());
}

// ------------------------------------------------------------------------------------------------

// ------------------------------------------------------------------------------------------------
// Shortest-path costs for the gap, warm-started from the bushes. A bush's shortest-path labels
// are costs of real paths, so they are upper bounds on the network distances; one pass over the
// links leaving the bush's nodes lowers every label a link can improve, and a label-correcting
// search (binary heap, lazy deletion) from the lowered nodes finishes the job. The result is the
// exact network distance: on a shortest path to any node, the first node whose label were still
// too high would have a predecessor with an exact label whose outgoing links were relaxed after
// its last change (in the pass, or when it was popped). Near equilibrium the bushes contain the
// shortest paths and the search has little or nothing to do, which makes this several times
// cheaper than a Dijkstra search per origin. Zones rule as everywhere: zones other than the
// origin are never expanded.

double BushSolver::bush_shortest_path_cost(const Bush& b, SpWorkspace& ws) const {
    const double* c = cost_[b.cls].data();
    double* d = ws.dist.data();
    const index_t o = b.origin;
    const std::size_t N = b.order.size();
    d[o] = 0.0;
    for (std::size_t k = 1; k < N; ++k) {
        double bs = kInf;
        for (index_t p = b.in_first[k], hi = b.in_first[k + 1]; p < hi; ++p)
            bs = std::min(bs, d[b.in_tail[p]] + c[b.in_link[p]]);
        d[b.order[k]] = bs;
    }
    const StarView& fs = net_.forward;
    const index_t first_thru = net_.first_thru_node;
    auto& heap = ws.heap;
    heap.clear();
    auto relax = [&](index_t i) {
        const double di = d[i];
        for (index_t e = fs.first[i], end = fs.first[i + 1]; e < end; ++e) {
            const index_t j = fs.other[e];
            const double nd = di + c[fs.link[e]];
            if (nd < d[j]) {
                d[j] = nd;
                heap.emplace_back(nd, j);
                std::push_heap(heap.begin(), heap.end(), std::greater<>());
            }
        }
    };
    // Every node reachable from the origin is a bush node, so d[] is valid wherever relax writes.
    for (std::size_t k = 0; k < N; ++k) {
        const index_t i = b.order[k];
        if (i < first_thru && i != o) continue;
        relax(i);
    }
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        const auto [key, i] = heap.back();
        heap.pop_back();
        if (key > d[i] || (i < first_thru && i != o)) continue;  // stale, or a zone
        relax(i);
    }
    double sp = 0.0;
    for (std::size_t i = 0; i < b.dest.size(); ++i) sp += b.dest_demand[i] * d[b.dest[i]];
    return sp;
}

double BushSolver::shortest_path_cost() {
    const std::int64_t nb = static_cast<std::int64_t>(bushes_.size());
    const int T = static_cast<int>(std::min<std::int64_t>(engine_.threads(), std::max<std::int64_t>(nb, 1)));
    if (static_cast<int>(sp_ws_.size()) < T) {
        sp_ws_.resize(static_cast<std::size_t>(T));
        for (auto& ws : sp_ws_) ws.dist.assign(static_cast<std::size_t>(pb_.n), kInf);
    }
    std::vector<double> per_bush(static_cast<std::size_t>(nb), 0.0);
    static_parallel_for(nb, T, opt_.keep_going, [&](int w, std::int64_t i) {
        per_bush[static_cast<std::size_t>(i)] =
            bush_shortest_path_cost(bushes_[static_cast<std::size_t>(i)], sp_ws_[static_cast<std::size_t>(w)]);
    });
    double total = 0.0;
    for (double x : per_bush) total += x;  // in bush order: independent of the thread count
    return total;
}

// ------------------------------------------------------------------------------------------------
// Extrapolation across sweeps. Under heavy congestion the origins' flow shifts are strongly
// coupled through the shared link costs: each sweep of Newton shifts (a Gauss-Seidel pass over
// the origins) then only takes a small step, and consecutive sweeps move the flows in nearly the
// same direction, so the objective decreases linearly at a slow rate. Every few sweeps the
// change of all bush flows since the last snapshot, D = F - F_prev, is extended by the exact
// line search of the Beckmann objective along F + lambda D (on the aggregate link flows, as in
// Frank-Wolfe), the bush flows set to max(0, F + lambda D) and rectified (exact conservation),
// and the step kept only if the objective decreased (else the flows are restored). A step costs
// about one sweep (a copy of the bush flows, one label pass and a rectification per bush).

void BushSolver::snapshot() {
    std::size_t total = 0;
    for (const Bush& b : bushes_) total += b.in_flow.size();
    prev_flow_.resize(total);
    double* out = prev_flow_.data();
    for (const Bush& b : bushes_) out = std::copy(b.in_flow.begin(), b.in_flow.end(), out);
    v_prev_ = v_;
}

double BushSolver::objective() const {
    double z = 0.0;
    for (std::size_t a = 0; a < v_.size(); ++a) z += pb_.perf.integral(static_cast<index_t>(a), v_[a]);
    for (const Bush& b : bushes_) {
        if (!pb_.has_fixed[static_cast<std::size_t>(b.cls)]) continue;
        const double* f = pb_.fixed[static_cast<std::size_t>(b.cls)].data();
        for (std::size_t p = 0; p < b.in_link.size(); ++p) z += b.in_flow[p] * f[b.in_link[p]];
    }
    return z;
}

bool BushSolver::extrapolate() {
    Workspace& wk = ws_[0];
    const std::size_t m = v_.size();
    dir_.resize(m);
    for (std::size_t a = 0; a < m; ++a) dir_[a] = v_[a] - v_prev_[a];
    double fixed_term = 0.0;
    const double* prev = prev_flow_.data();
    for (const Bush& b : bushes_) {
        const std::size_t L = b.in_flow.size();
        if (pb_.has_fixed[static_cast<std::size_t>(b.cls)]) {
            const double* f = pb_.fixed[static_cast<std::size_t>(b.cls)].data();
            for (std::size_t p = 0; p < L; ++p) fixed_term += (b.in_flow[p] - prev[p]) * f[b.in_link[p]];
        }
        prev += L;
    }
    const LineSearch ls{pb_, v_, dir_, fixed_term};
    const double lambda = ls.solve(opt_.bush_extrapolation_limit);
    if (!(lambda > 1e-3)) return false;
    const double z0 = objective();
    double* restore = prev_flow_.data();
    for (Bush& b : bushes_) {
        for (std::size_t p = 0; p < b.in_flow.size(); ++p) {
            const double f = b.in_flow[p];
            b.in_flow[p] = std::max(0.0, f + lambda * (f - restore[p]));
            restore[p] = f;  // the restore point
        }
        restore += b.in_flow.size();
        sp_labels(b, wk);
        rectify(b, wk);
    }
    std::vector<std::vector<double>> unused;
    recompute_link_flows(unused);
    const double z1 = objective();
    if (z1 < z0) return true;
    restore = prev_flow_.data();
    for (Bush& b : bushes_) {
        std::copy(restore, restore + b.in_flow.size(), b.in_flow.begin());
        restore += b.in_flow.size();
    }
    recompute_link_flows(unused);
    return false;
}

void BushSolver::make_solution() {
    auto sol = std::make_shared<BushSolution>();
    sol->num_nodes = pb_.n;
    sol->num_links = pb_.m;
    sol->first_thru_node = net_.first_thru_node;
    sol->tail.assign(net_.tail.begin(), net_.tail.end());
    sol->head.assign(net_.head.begin(), net_.head.end());
    sol->zone_node.assign(net_.zone_node.begin(), net_.zone_node.end());
    sol->pce = pb_.pce;
    sol->bush_of_zone.assign(pb_.pce.size(), std::vector<index_t>(net_.zone_node.size(), kInvalidIndex));
    for (std::size_t i = 0; i < bushes_.size(); ++i)
        sol->bush_of_zone[static_cast<std::size_t>(bushes_[i].cls)][static_cast<std::size_t>(bushes_[i].zone)] =
            static_cast<index_t>(i);
    sol->bushes = std::move(bushes_);
    res_.bushes = std::move(sol);
}

AssignmentResult BushSolver::run() {
    Stopwatch clock;
    const int K = pb_.num_classes();
    initialise();
    Workspace& wk = ws_[0];
    std::vector<std::vector<double>> class_flow(K, std::vector<double>(v_.size(), 0.0));
    bool out_of_time = false;
    auto time_up = [&]() { return clock.seconds() >= opt_.time_limit; };
    double last_excess = 0.0;  // TSTC - SPTC at the last gap evaluation (0: none yet)
    for (int it = 1;; ++it) {
        const double start = clock.seconds();
        // Improve every bush and equilibrate it once, then sweep flow shifts over all bushes
        // until the stopping rules of the sweeps hold or the sweep budget is spent. Bush
        // improvement reads only the link costs and the bush itself, so the bushes are improved
        // in parallel at the costs of the iteration start (deterministic: the result does not
        // depend on the thread count); the flow shifts then run sequentially, each one seeing the
        // costs left by the previous ones (Gauss-Seidel over the origins).
        static_parallel_for(static_cast<std::int64_t>(bushes_.size()), engine_.threads(), opt_.keep_going,
                            [&](int w, std::int64_t i) {
                                improve(bushes_[static_cast<std::size_t>(i)], ws_[static_cast<std::size_t>(w)]);
                            });
        for (Bush& b : bushes_) {
            scan(b, wk);
            shift(b, wk);
            poll();
            if (time_up()) { out_of_time = true; break; }
        }
        double d0 = -1;
        // Slow progress (see AssignmentOptions::bush_extrapolation_after): extrapolate. Not in the
        // first iteration: it has no previous excess to stop at, so it always runs its sweeps to
        // the reduction target, which says nothing about slow progress, and its bushes are the
        // largest of the run, so the snapshot costs most there. On Philadelphia the first
        // iteration ran 12 sweeps and extrapolated once; without that the gaps of the first 7
        // iterations are within 5 % (8.8e-4 vs 9.5e-4 after 7), and the peak resident size falls
        // by the snapshot, 195 MB.
        const int every = it == 1 ? 0 : opt_.bush_extrapolation_sweeps, after = opt_.bush_extrapolation_after;
        for (int sweep = 0; sweep < opt_.bush_inner_sweeps && !out_of_time; ++sweep) {
            if (every > 0 && sweep == after) snapshot();
            if (every > 0 && sweep > after && (sweep - after) % every == 0) {
                // (Stopping after a rejected or small step, to bound the cost where it does not
                // pay, was measured worse: 50 x 50 grid 6e-8 vs 2e-8 after 67 s.)
                extrapolate();
                snapshot();
            }
            bool any = false;
            double dmax = 0, ein = 0;
            for (Bush& b : bushes_) {
                const double d = scan(b, wk);
                ein += scan_excess_;
                dmax = std::max(dmax, d);
                if (d > 0.0) {
                    shift(b, wk);
                    any = true;
                }
                poll();
                if (time_up()) { out_of_time = true; break; }
            }
            if (d0 < 0) d0 = dmax;
            if (!any) break;
            if (ein < opt_.bush_sweep_excess_ratio * last_excess) break;
            if (dmax < opt_.bush_sweep_reduction * d0) break;
        }
        std::vector<double>().swap(prev_flow_);  // release the snapshot (see extrapolate())
        // Exact link flows from the bushes, then the gap at that state.
        recompute_link_flows(class_flow);
        const double sptc = shortest_path_cost();
        double tstc = 0.0;
        for (int k = 0; k < K; ++k)
            for (std::size_t a = 0; a < v_.size(); ++a) tstc += class_flow[k][a] * cost_[k][a];
        const double gap = sptc > 0.0 ? (tstc - sptc) / sptc : (tstc > 0.0 ? kInf : 0.0);
        last_excess = tstc - sptc;
        res_.gap_history.push_back(gap);
        res_.iteration_seconds.push_back(clock.seconds() - start);
        res_.iterations = it;
        bool stop = true;
        if (gap <= opt_.target_gap) {
            res_.converged = true;
            res_.stop_reason = "converged";
        } else if (opt_.on_iteration && !opt_.on_iteration(it, gap)) {
            res_.stop_reason = "cancelled";
        } else if (it >= opt_.max_iterations) {
            res_.stop_reason = "max_iterations";
        } else if (out_of_time || time_up()) {
            res_.stop_reason = "time_limit";
        } else {
            stop = false;
        }
        if (stop) {
            finish_result(pb_, class_flow, sptc, res_);
            if (opt_.keep_bushes) make_solution();
            return std::move(res_);
        }
    }
}

}  // namespace

AssignmentResult assign_bush(const Problem& pb, const AssignmentOptions& options) {
    BushSolver solver(pb, options);
    return solver.run();
}

}  // namespace smartcore::detail
