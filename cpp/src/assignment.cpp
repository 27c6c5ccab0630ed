// Static traffic assignment: validation, link performance, all-or-nothing loading, the relative
// gap, and the Frank-Wolfe family (MSA, FW, conjugate and bi-conjugate FW). Algorithm B lives in
// assignment_bush.cpp.
#include "smartcore/assignment.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "smartcore/assignment_detail.hpp"

namespace smartcore {

namespace {

std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Link performance

LinkPerformance::LinkPerformance(const LinkPerformanceView& v) : kind_(v.kind) {
    if (v.kind != VdfKind::kBpr && v.kind != VdfKind::kConical)
        throw InputError("vdf", -1, "unknown volume-delay function kind");
    const std::size_t m = v.free_flow_time.size();
    auto check_size = [&](Span<const double> s, const char* field) {
        if (s.size() != m)
            throw InputError(field, -1,
                             std::string(field) + ": expected " + std::to_string(m) +
                                 " values (one per link), got " + std::to_string(s.size()));
    };
    check_size(v.capacity, "capacity");
    check_size(v.alpha, "alpha");
    if (v.kind == VdfKind::kBpr) check_size(v.beta, "beta");
    auto bad = [](const char* field, std::size_t a, double x, const char* rule) {
        throw InputError(field, static_cast<std::int64_t>(a),
                         std::string(field) + " of link " + std::to_string(a) + " is " + num(x) +
                             " (" + rule + ")");
    };
    p_.resize(m);
    for (std::size_t a = 0; a < m; ++a) {
        const double t0 = v.free_flow_time[a], c = v.capacity[a], al = v.alpha[a];
        if (!(t0 >= 0.0 && t0 < kInf)) bad("free_flow_time", a, t0, "must be finite and >= 0");
        if (!(c > 0.0 && c < kInf)) bad("capacity", a, c, "must be finite and > 0");
        P& p = p_[a];
        p.t0 = t0;
        p.inv_c = 1.0 / c;
        if (!(1.0 / c < kInf)) bad("capacity", a, c, "is too small: 1/capacity overflows");
        if (v.kind == VdfKind::kBpr) {
            const double be = v.beta[a];
            if (!(al >= 0.0 && al < kInf)) bad("alpha", a, al, "BPR alpha must be finite and >= 0");
            if (!(be >= 0.0 && be < kInf)) bad("beta", a, be, "BPR beta must be finite and >= 0");
            p.t0a = t0 * al;
            if (!(p.t0a < kInf)) bad("alpha", a, al, "free_flow_time x alpha overflows");
            p.beta = be;
            p.alpha = al;
            if (be == std::floor(be) && be <= 16.0) p.ibeta = static_cast<int>(be);
            // beta = 0: (v/c)^0 = 1 for every v, so the time is the constant t0 (1 + alpha).
            p.constant = t0 == 0.0 || al == 0.0 || be == 0.0;
            p.t_const = be == 0.0 ? t0 * (1.0 + al) : t0;
        } else {
            if (!(al > 1.0 && al < kInf)) bad("alpha", a, al, "conical alpha must be finite and > 1");
            p.alpha = al;
            p.b = (2.0 * al - 1.0) / (2.0 * al - 2.0);
            p.b2 = p.b * p.b;
            p.constant = t0 == 0.0;
            p.t_const = 0.0;
        }
    }
}

void link_times(const LinkPerformance& perf, Span<const double> flow, Span<double> time,
                Span<double> derivative) {
    const std::size_t m = static_cast<std::size_t>(perf.num_links());
    if (flow.size() != m) throw InputError("flow", -1, "flow must have one value per link");
    if (time.size() != m) throw InputError("time", -1, "time must have one value per link");
    if (!derivative.empty() && derivative.size() != m)
        throw InputError("derivative", -1, "derivative must have one value per link");
    for (std::size_t a = 0; a < m; ++a) {
        if (!(flow[a] < kInf) || std::isnan(flow[a]))
            throw InputError("flow", static_cast<std::int64_t>(a), "flow of link " + std::to_string(a) +
                                                                       " is " + num(flow[a]));
        const index_t ai = static_cast<index_t>(a);
        if (derivative.empty()) time[a] = perf.time(ai, flow[a]);
        else perf.time_and_derivative(ai, flow[a], time[a], derivative[a]);
    }
}

double beckmann_objective(const LinkPerformance& perf, Span<const double> flow,
                          const std::vector<Span<const double>>& class_pce_flow,
                          const std::vector<Span<const double>>& fixed_cost) {
    const std::size_t m = static_cast<std::size_t>(perf.num_links());
    if (flow.size() != m) throw InputError("flow", -1, "flow must have one value per link");
    double z = 0.0;
    for (std::size_t a = 0; a < m; ++a) z += perf.integral(static_cast<index_t>(a), flow[a]);
    for (std::size_t k = 0; k < class_pce_flow.size() && k < fixed_cost.size(); ++k) {
        if (fixed_cost[k].empty()) continue;
        if (class_pce_flow[k].size() != m || fixed_cost[k].size() != m)
            throw InputError("fixed_cost", static_cast<std::int64_t>(k),
                             "class flows and fixed costs must have one value per link");
        for (std::size_t a = 0; a < m; ++a) z += class_pce_flow[k][a] * fixed_cost[k][a];
    }
    return z;
}

// ------------------------------------------------------------------------------------------------
namespace detail {

int resolve_thread_count(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return threads;
}

OdList make_od_list(Span<const index_t> zone_node, Span<const double> demand, double pce) {
    OdList od;
    const std::size_t z = zone_node.size();
    for (std::size_t o = 0; o < z; ++o) {
        const index_t onode = zone_node[o];
        OdList::Origin org{static_cast<index_t>(o), onode, static_cast<std::int64_t>(od.dest_node.size()), 0};
        for (std::size_t d = 0; d < z; ++d) {
            const double x = demand[o * z + d];
            if (x == 0.0) continue;
            if (zone_node[d] == onode) {
                od.intrazonal += x;
                continue;
            }
            od.dest_node.push_back(zone_node[d]);
            od.dest_zone.push_back(static_cast<index_t>(d));
            od.dest_demand.push_back(x * pce);
        }
        org.last = static_cast<std::int64_t>(od.dest_node.size());
        if (org.last > org.first) od.origins.push_back(org);
    }
    return od;
}

void check_warm_start(const Problem& pb, const WarmStart& warm) {
    const std::size_t K = pb.pce.size(), m = static_cast<std::size_t>(pb.m);
    const std::size_t zz = pb.net->zone_node.size() * pb.net->zone_node.size();
    if (warm.bushes) {
        check_bush_solution(*warm.bushes, *pb.net, "warm_start");
        if (warm.bushes->pce.size() != K)
            throw InputError("warm_start", -1, "warm start has " + std::to_string(warm.bushes->pce.size()) +
                                                   " classes, the assignment " + std::to_string(K));
    }
    if (warm.class_flow.empty() && warm.demand.empty()) return;
    if (warm.class_flow.size() != K || warm.demand.size() != K)
        throw InputError("warm_start", -1, "warm start needs flows and demand for each of the " +
                                               std::to_string(K) + " classes");
    for (std::size_t k = 0; k < K; ++k) {
        if (warm.class_flow[k].size() != m)
            throw InputError("warm_start", static_cast<std::int64_t>(k), "warm start flows need one value per link");
        if (warm.demand[k].size() != zz)
            throw InputError("warm_start", static_cast<std::int64_t>(k), "warm start demand must be zones x zones");
        for (double x : warm.class_flow[k])
            if (!(x >= 0.0 && x < kInf)) throw InputError("warm_start", static_cast<std::int64_t>(k),
                                                         "warm start flows must be finite and >= 0");
        for (double x : warm.demand[k])
            if (!(x >= 0.0 && x < kInf)) throw InputError("warm_start", static_cast<std::int64_t>(k),
                                                         "warm start demand must be finite and >= 0");
    }
}

Problem make_problem(const AssignmentNetwork& net, const LinkPerformanceView& vdf,
                     const std::vector<TrafficClass>& classes, const AssignmentOptions& options) {
    Problem pb;
    pb.net = &net;
    const StarView& fs = net.forward;
    if (fs.first.size() < 1) throw InputError("fs_first", -1, "fs_first must have num_nodes + 1 entries");
    pb.n = fs.num_nodes();
    pb.m = static_cast<index_t>(fs.link.size());
    const std::size_t m = static_cast<std::size_t>(pb.m);
    if (net.tail.size() != m || net.head.size() != m || fs.other.size() != m)
        throw InputError("tail", -1, "tail, head, fs_link and fs_head must all have one entry per link");
    if (fs.first[0] != 0 || static_cast<std::size_t>(fs.first[fs.first.size() - 1]) != m)
        throw InputError("fs_first", -1, "fs_first must start at 0 and end at the number of links");
    for (index_t v = 0; v < pb.n; ++v) {
        if (fs.first[v + 1] < fs.first[v]) throw InputError("fs_first", v, "fs_first must be non-decreasing");
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e) {
            const index_t a = fs.link[e];
            if (a < 0 || a >= pb.m) throw InputError("fs_link", e, "fs_link entry out of range");
            if (net.tail[a] != v || net.head[a] != fs.other[e] || fs.other[e] < 0 || fs.other[e] >= pb.n)
                throw InputError("fs_link", e, "forward star does not match tail/head of link " +
                                                   std::to_string(a));
        }
    }
    if (net.first_thru_node < 0 || net.first_thru_node > pb.n)
        throw InputError("first_thru_node", -1, "first_thru_node outside [0, num_nodes]");
    validate_nodes(net.zone_node, pb.n, "zone_node");
    if (classes.empty()) throw InputError("classes", -1, "at least one traffic class is needed");

    LinkPerformanceView v = vdf;
    if (v.free_flow_time.size() != m)
        throw InputError("free_flow_time", -1, "free_flow_time must have one value per link");
    pb.perf = LinkPerformance(v);

    if (std::isnan(options.target_gap) || options.target_gap < 0)
        throw InputError("gap", -1, "target gap must be >= 0, got " + num(options.target_gap));
    if (options.max_iterations < 1)
        throw InputError("max_iterations", -1, "max_iterations must be >= 1");
    if (std::isnan(options.time_limit) || options.time_limit <= 0)
        throw InputError("time_limit", -1, "time_limit must be > 0 seconds (inf for none)");
    const int alg = static_cast<int>(options.algorithm);
    if (alg < 0 || alg > static_cast<int>(Algorithm::kBush))
        throw InputError("algorithm", -1, "unknown algorithm");
    if (options.bush_inner_sweeps < 0)
        throw InputError("bush_inner_sweeps", -1, "bush_inner_sweeps must be >= 0");
    if (!(options.bush_sweep_reduction >= 0.0 && options.bush_sweep_reduction <= 1.0))
        throw InputError("bush_sweep_reduction", -1, "bush_sweep_reduction must lie in [0, 1]");
    if (!(options.bush_sweep_excess_ratio >= 0.0 && options.bush_sweep_excess_ratio < kInf))
        throw InputError("bush_sweep_excess_ratio", -1, "bush_sweep_excess_ratio must be finite and >= 0");
    if (options.bush_extrapolation_sweeps < 0 || options.bush_extrapolation_after < 0)
        throw InputError("bush_extrapolation_sweeps", -1, "bush extrapolation sweep counts must be >= 0");
    if (!(options.bush_extrapolation_limit > 0.0 && options.bush_extrapolation_limit < kInf))
        throw InputError("bush_extrapolation_limit", -1, "bush_extrapolation_limit must be finite and > 0");

    const std::size_t z = net.zone_node.size();
    const int K = static_cast<int>(classes.size());
    pb.pce.resize(K);
    pb.fixed.resize(K);
    pb.has_fixed.assign(K, false);
    pb.od.resize(K);
    for (int k = 0; k < K; ++k) {
        const TrafficClass& c = classes[k];
        if (!(c.pce > 0.0 && c.pce < kInf))
            throw InputError("pce", k, "pce of class " + std::to_string(k) + " is " + num(c.pce) +
                                           " (must be finite and > 0)");
        pb.pce[k] = c.pce;
        if (c.demand.size() != z * z)
            throw InputError("demand", k, "demand of class " + std::to_string(k) + " must have " +
                                              std::to_string(z * z) + " entries (zones x zones), got " +
                                              std::to_string(c.demand.size()));
        pb.fixed[k].assign(m, 0.0);
        if (!c.fixed_cost.empty()) {
            if (c.fixed_cost.size() != m)
                throw InputError("fixed_cost", k, "fixed_cost of class " + std::to_string(k) +
                                                      " must have one value per link");
            for (std::size_t a = 0; a < m; ++a) {
                const double f = c.fixed_cost[a];
                if (!(f >= 0.0 && f < kInf))
                    throw InputError("fixed_cost", static_cast<std::int64_t>(a),
                                     "fixed cost of link " + std::to_string(a) + " (class " +
                                         std::to_string(k) + ") is " + num(f) + " (must be finite and >= 0)");
                pb.fixed[k][a] = f;
                if (f != 0.0) pb.has_fixed[k] = true;
            }
        }
        for (std::size_t i = 0; i < z * z; ++i) {
            const double x = c.demand[i];
            if (!(x >= 0.0 && x < kInf))
                throw InputError("demand", static_cast<std::int64_t>(i),
                                 "demand from zone index " + std::to_string(i / z) + " to " +
                                     std::to_string(i % z) + " (class " + std::to_string(k) + ") is " +
                                     num(x) + " (must be finite and >= 0)");
        }
        pb.od[k] = make_od_list(net.zone_node, c.demand, c.pce);
        pb.demand.push_back(c.demand);
    }
    if (options.warm_start) check_warm_start(pb, *options.warm_start);
    return pb;
}

// ------------------------------------------------------------------------------------------------
// TreeEngine

TreeEngine::TreeEngine(const Problem& pb, int threads) : pb_(pb), threads_(resolve_thread_count(threads)) {
    // Topology and node order are built once; each loading only swaps the costs in.
    std::vector<double> zero(static_cast<std::size_t>(pb.m), 0.0);
    base_ = RoutingGraph(pb.net->forward, zero, pb.net->first_thru_node, RoutingGraph::Order::kLocality);
    const std::size_t T = static_cast<std::size_t>(threads_);
    query_.resize(T);
    for (auto& q : query_) q.resize(pb.n);
    node_flow_.assign(T, std::vector<double>(static_cast<std::size_t>(pb.n), 0.0));
    children_.assign(T, std::vector<index_t>(static_cast<std::size_t>(pb.n), 0));
    stack_.resize(T);
    partial_.resize(T);
    targets_.resize(T);
}

AonResult TreeEngine::load(int k, Span<const double> cost, Span<double> flow,
                           const std::function<bool()>& keep_going) {
    return load(pb_.od[k], k, cost, flow, keep_going);
}

AonResult TreeEngine::load(const OdList& od, int k, Span<const double> cost, Span<double> flow,
                           const std::function<bool()>& keep_going) {
    const RoutingGraph g = base_.with_weight(cost);
    const std::size_t m = static_cast<std::size_t>(pb_.m);
    const std::int64_t no = static_cast<std::int64_t>(od.origins.size());
    const int T = static_cast<int>(std::min<std::int64_t>(threads_, std::max<std::int64_t>(no, 1)));
    for (int w = 1; w < T; ++w) partial_[w].assign(m, 0.0);
    std::fill(flow.begin(), flow.end(), 0.0);
    std::vector<double> sptc(static_cast<std::size_t>(no), 0.0), unreach(static_cast<std::size_t>(no), 0.0);
    std::vector<std::int64_t> unreach_pairs(static_cast<std::size_t>(no), 0);
    const index_t n = pb_.n;

    static_parallel_for(no, T, keep_going, [&](int w, std::int64_t i) {
        const OdList::Origin& org = od.origins[static_cast<std::size_t>(i)];
        DijkstraQuery& q = query_[w];
        double* out = w == 0 ? flow.data() : partial_[w].data();
        std::vector<index_t>& tg = targets_[w];
        tg.clear();
        for (std::int64_t d = org.first; d < org.last; ++d)
            tg.push_back(g.to_internal(od.dest_node[static_cast<std::size_t>(d)]));
        q.set_targets(tg);
        const index_t s = g.to_internal(org.node);
        q.run(g, s);
        double* nf = node_flow_[w].data();
        index_t* cnt = children_[w].data();
        double sp = 0.0, un = 0.0;
        std::int64_t up = 0;
        for (std::int64_t d = org.first; d < org.last; ++d) {
            const index_t t = tg[static_cast<std::size_t>(d - org.first)];
            const double x = od.dest_demand[static_cast<std::size_t>(d)];
            if (!q.settled(t)) {
                un += x;
                ++up;
                continue;
            }
            sp += x * q.distance(t);
            nf[t] += x;
        }
        sptc[static_cast<std::size_t>(i)] = sp;
        unreach[static_cast<std::size_t>(i)] = un;
        unreach_pairs[static_cast<std::size_t>(i)] = up;
        // Load the tree from the leaves up: count each settled node's children, then peel leaves
        // (a node is finished once all its children have pushed their flow into it).
        std::vector<index_t>& stack = stack_[w];
        stack.clear();
        const index_t* ltail = pb_.net->tail.data();
        auto pred_node = [&](index_t u) { return g.to_internal(ltail[g.link(q.pred_edge(u))]); };
        for (index_t u = 0; u < n; ++u)
            if (u != s && q.settled(u)) ++cnt[pred_node(u)];
        for (index_t u = 0; u < n; ++u)
            if (u != s && cnt[u] == 0 && q.settled(u)) stack.push_back(u);
        while (!stack.empty()) {
            const index_t u = stack.back();
            stack.pop_back();
            const index_t p = pred_node(u);
            const double f = nf[u];
            if (f != 0.0) {
                out[g.link(q.pred_edge(u))] += f;
                nf[p] += f;
                nf[u] = 0.0;
            }
            if (--cnt[p] == 0 && p != s) stack.push_back(p);
        }
        nf[s] = 0.0;
    });
    for (int w = 1; w < T; ++w)
        for (std::size_t a = 0; a < m; ++a) flow[a] += partial_[w][a];

    AonResult r;
    r.intrazonal_demand = od.intrazonal;
    for (std::int64_t i = 0; i < no; ++i) {
        r.shortest_path_cost += sptc[static_cast<std::size_t>(i)];
        r.unreachable_demand += unreach[static_cast<std::size_t>(i)];
        r.unreachable_pairs += unreach_pairs[static_cast<std::size_t>(i)];
    }
    double total = 0.0;
    for (double x : od.dest_demand) total += x;
    r.unreachable_demand /= pb_.pce[k];
    r.assigned_demand = total / pb_.pce[k] - r.unreachable_demand;
    return r;
}

double TreeEngine::shortest_path_cost(int k, Span<const double> cost, const std::function<bool()>& keep_going) {
    const OdList& od = pb_.od[k];
    const RoutingGraph g = base_.with_weight(cost);
    const std::int64_t no = static_cast<std::int64_t>(od.origins.size());
    const int T = static_cast<int>(std::min<std::int64_t>(threads_, std::max<std::int64_t>(no, 1)));
    std::vector<double> sptc(static_cast<std::size_t>(no), 0.0);
    static_parallel_for(no, T, keep_going, [&](int w, std::int64_t i) {
        const OdList::Origin& org = od.origins[static_cast<std::size_t>(i)];
        DijkstraQuery& q = query_[w];
        std::vector<index_t>& tg = targets_[w];
        tg.clear();
        for (std::int64_t d = org.first; d < org.last; ++d)
            tg.push_back(g.to_internal(od.dest_node[static_cast<std::size_t>(d)]));
        q.set_targets(tg);
        q.run(g, g.to_internal(org.node));
        double sp = 0.0;
        for (std::int64_t d = org.first; d < org.last; ++d) {
            const index_t t = tg[static_cast<std::size_t>(d - org.first)];
            if (q.settled(t)) sp += od.dest_demand[static_cast<std::size_t>(d)] * q.distance(t);
        }
        sptc[static_cast<std::size_t>(i)] = sp;
    });
    double total = 0.0;
    for (double x : sptc) total += x;
    return total;
}

std::vector<std::vector<index_t>> TreeEngine::trees(int k, Span<const double> cost,
                                                    Span<const std::int64_t> origins,
                                                    const std::function<bool()>& keep_going) {
    const OdList& od = pb_.od[k];
    const RoutingGraph g = base_.with_weight(cost);
    const std::int64_t no = static_cast<std::int64_t>(origins.size());
    const int T = static_cast<int>(std::min<std::int64_t>(threads_, std::max<std::int64_t>(no, 1)));
    std::vector<std::vector<index_t>> out(static_cast<std::size_t>(no));
    const index_t n = pb_.n;
    static_parallel_for(no, T, keep_going, [&](int w, std::int64_t i) {
        const OdList::Origin& org = od.origins[static_cast<std::size_t>(origins[static_cast<std::size_t>(i)])];
        DijkstraQuery& q = query_[w];
        q.set_targets({});  // the whole reachable set: bushes span it
        q.run(g, g.to_internal(org.node));
        std::vector<index_t>& pred = out[static_cast<std::size_t>(i)];
        pred.assign(static_cast<std::size_t>(n), kInvalidIndex);
        for (index_t u = 0; u < n; ++u) {
            const index_t e = q.pred_edge(u);
            if (e != kInvalidIndex) pred[g.to_external(u)] = g.link(e);
        }
    });
    return out;
}

// ------------------------------------------------------------------------------------------------

void finish_result(const Problem& pb, const std::vector<std::vector<double>>& y, double sptc,
                   AssignmentResult& res) {
    const std::size_t m = static_cast<std::size_t>(pb.m);
    const int K = pb.num_classes();
    res.link_flow.assign(m, 0.0);
    for (int k = 0; k < K; ++k)
        for (std::size_t a = 0; a < m; ++a) res.link_flow[a] += y[k][a];
    res.link_time.resize(m);
    double tstt = 0.0, tstc = 0.0, beck = 0.0;
    for (std::size_t a = 0; a < m; ++a) {
        const index_t ai = static_cast<index_t>(a);
        const double t = pb.perf.time(ai, res.link_flow[a]);
        res.link_time[a] = t;
        tstt += res.link_flow[a] * t;
        beck += pb.perf.integral(ai, res.link_flow[a]);
    }
    tstc = tstt;
    res.class_flow.assign(K, std::vector<double>(m, 0.0));
    for (int k = 0; k < K; ++k) {
        const double inv = 1.0 / pb.pce[k];
        for (std::size_t a = 0; a < m; ++a) {
            res.class_flow[k][a] = y[k][a] * inv;
            if (pb.has_fixed[k]) {
                tstc += y[k][a] * pb.fixed[k][a];
                beck += y[k][a] * pb.fixed[k][a];
            }
        }
    }
    res.total_travel_time = tstt;
    res.total_cost = tstc;
    res.beckmann = beck;
    res.shortest_path_cost = sptc;
    double assigned_pce = 0.0;
    for (int k = 0; k < K; ++k) assigned_pce += res.assigned_demand[k] * pb.pce[k];
    res.relative_gap = sptc > 0.0 ? (tstc - sptc) / sptc : (tstc > 0.0 ? kInf : 0.0);
    res.average_excess_cost = assigned_pce > 0.0 ? (tstc - sptc) / assigned_pce : 0.0;
}

}  // namespace detail

// ------------------------------------------------------------------------------------------------

AonResult all_or_nothing(const AssignmentNetwork& net, Span<const double> cost, const TrafficClass& cls,
                         int threads, const std::function<bool()>& keep_going) {
    // A neutral link performance function: only the topology and the demand matter here.
    const std::size_t m = net.tail.size();
    std::vector<double> ones(m, 1.0), zeros(m, 0.0);
    const LinkPerformanceView vdf{VdfKind::kBpr, zeros, ones, zeros, zeros};
    const detail::Problem pb = detail::make_problem(net, vdf, {cls}, AssignmentOptions{});
    validate_weight(cost, m);
    detail::TreeEngine engine(pb, threads);
    std::vector<double> flow(m, 0.0);
    AonResult r = engine.load(0, cost, flow, keep_going);
    r.flow = std::move(flow);
    return r;
}

// ------------------------------------------------------------------------------------------------
// Frank-Wolfe family

namespace {

using detail::Problem;

// State shared by the link-based algorithms: class PCE flows, total flow, link costs.
struct LinkState {
    const Problem& pb;
    std::vector<std::vector<double>> x;  // per class PCE flow
    std::vector<double> v;               // total
    std::vector<double> t, dt;           // time, derivative
    std::vector<std::vector<double>> cost;  // per class: t + fixed

    explicit LinkState(const Problem& p) : pb(p) {
        const std::size_t m = static_cast<std::size_t>(p.m);
        const int K = p.num_classes();
        x.assign(K, std::vector<double>(m, 0.0));
        v.assign(m, 0.0);
        t.assign(m, 0.0);
        dt.assign(m, 0.0);
        cost.assign(K, std::vector<double>(m, 0.0));
    }
    void update_costs() {
        const std::size_t m = v.size();
        for (std::size_t a = 0; a < m; ++a) {
            v[a] = 0.0;
            for (const auto& xk : x) v[a] += xk[a];
            pb.perf.time_and_derivative(static_cast<index_t>(a), v[a], t[a], dt[a]);
        }
        for (std::size_t k = 0; k < cost.size(); ++k)
            for (std::size_t a = 0; a < m; ++a) cost[k][a] = t[a] + pb.fixed[k][a];
    }
};

using detail::LineSearch;


double dot_h(const std::vector<double>& dt, const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += dt[i] * a[i] * b[i];
    return s;
}

AssignmentResult assign_link_based(const Problem& pb, const AssignmentOptions& opt) {
    detail::Stopwatch clock;
    const std::size_t m = static_cast<std::size_t>(pb.m);
    const int K = pb.num_classes();
    detail::TreeEngine engine(pb, opt.threads);
    LinkState st(pb);
    AssignmentResult res;
    res.unreachable_pairs.assign(K, 0);
    res.unreachable_demand.assign(K, 0.0);
    res.assigned_demand.assign(K, 0.0);
    res.intrazonal_demand.assign(K, 0.0);

    // Direction points per class: y (AON), s (current direction), s_prev (previous), for CFW/BFW.
    std::vector<std::vector<double>> y(K, std::vector<double>(m, 0.0));
    std::vector<std::vector<double>> s(K, std::vector<double>(m, 0.0)), s_prev(K, std::vector<double>(m, 0.0));
    std::vector<double> Y(m), S(m), Sp(m), D(m), tmp1(m), tmp2(m), tmp3(m);

    auto aon_all = [&](double& sptc) {
        sptc = 0.0;
        for (int k = 0; k < K; ++k) {
            AonResult r = engine.load(k, st.cost[k], y[k], opt.keep_going);
            sptc += r.shortest_path_cost;
            res.unreachable_pairs[k] = r.unreachable_pairs;
            res.unreachable_demand[k] = r.unreachable_demand;
            res.assigned_demand[k] = r.assigned_demand;
            res.intrazonal_demand[k] = r.intrazonal_demand;
        }
    };

    double iter_start = clock.seconds();
    double sptc;
    const WarmStart* warm = opt.warm_start;
    if (warm && !warm->class_flow.empty() && opt.algorithm != Algorithm::kAllOrNothing) {
        // Warm start (see WarmStart): x = r * previous + AON(new - r * old) at the costs of
        // r * previous, a feasible flow for the new demand.
        const Span<const index_t> zn = pb.net->zone_node;
        const std::size_t z = zn.size();
        std::vector<double> ratio(static_cast<std::size_t>(K), 0.0);
        for (int k = 0; k < K; ++k) {
            double r = kInf;
            for (std::size_t i = 0; i < z * z; ++i) {
                const double old = warm->demand[k][i];
                if (old > 0.0 && zn[i / z] != zn[i % z]) r = std::min(r, pb.demand[k][i] / old);
            }
            ratio[k] = r < kInf ? r : 0.0;
            for (std::size_t a = 0; a < m; ++a) st.x[k][a] = ratio[k] * pb.pce[k] * warm->class_flow[k][a];
        }
        st.update_costs();
        std::vector<double> delta(z * z);
        for (int k = 0; k < K; ++k) {
            for (std::size_t i = 0; i < z * z; ++i)
                delta[i] = std::max(0.0, pb.demand[k][i] - ratio[k] * warm->demand[k][i]);
            const detail::OdList od = detail::make_od_list(zn, delta, pb.pce[k]);
            engine.load(od, k, st.cost[k], y[k], opt.keep_going);
            for (std::size_t a = 0; a < m; ++a) st.x[k][a] += y[k][a];
        }
    } else {
        // Iteration 1: all-or-nothing at free-flow costs.
        st.update_costs();
        aon_all(sptc);
        st.x = y;
    }
    enum class Dir { kFw, kCfw, kBfw };
    Dir next = Dir::kFw;
    double prev_step = 1.0;
    int it = 1;
    for (;;) {
        st.update_costs();
        aon_all(sptc);  // AON at x: the gap now, the direction next
        double tstc = 0.0;
        for (int k = 0; k < K; ++k)
            for (std::size_t a = 0; a < m; ++a) tstc += st.x[k][a] * st.cost[k][a];
        const double gap = sptc > 0.0 ? (tstc - sptc) / sptc : (tstc > 0.0 ? kInf : 0.0);
        res.gap_history.push_back(gap);
        res.iteration_seconds.push_back(clock.seconds() - iter_start);
        res.iterations = it;
        if (opt.algorithm == Algorithm::kAllOrNothing) { res.stop_reason = "all_or_nothing"; break; }
        if (gap <= opt.target_gap) { res.converged = true; res.stop_reason = "converged"; break; }
        if (opt.on_iteration && !opt.on_iteration(it, gap)) { res.stop_reason = "cancelled"; break; }
        if (it >= opt.max_iterations) { res.stop_reason = "max_iterations"; break; }
        if (clock.seconds() >= opt.time_limit) { res.stop_reason = "time_limit"; break; }
        iter_start = clock.seconds();
        ++it;

        // Direction.
        Dir dir = Dir::kFw;
        if (opt.algorithm == Algorithm::kConjugateFrankWolfe) dir = next == Dir::kFw ? Dir::kFw : Dir::kCfw;
        if (opt.algorithm == Algorithm::kBiconjugateFrankWolfe) dir = next;
        for (std::size_t a = 0; a < m; ++a) {
            Y[a] = 0.0;
            S[a] = 0.0;
            Sp[a] = 0.0;
            for (int k = 0; k < K; ++k) {
                Y[a] += y[k][a];
                S[a] += s[k][a];
                Sp[a] += s_prev[k][a];
            }
        }
        double alpha_cfw = 0.0, b0 = 1.0, b1 = 0.0, b2 = 0.0;
        if (dir == Dir::kCfw) {
            // alpha = (s - x)' H (y - x) / (s - x)' H (y - s), H = diag(t'), clipped to [0, 1 - 1e-5].
            for (std::size_t a = 0; a < m; ++a) {
                tmp1[a] = S[a] - st.v[a];
                tmp2[a] = Y[a] - st.v[a];
                tmp3[a] = Y[a] - S[a];
            }
            const double num_ = dot_h(st.dt, tmp1, tmp2), den = dot_h(st.dt, tmp1, tmp3);
            alpha_cfw = den != 0.0 ? num_ / den : 0.0;
            if (!(alpha_cfw >= 0.0)) alpha_cfw = 0.0;
            alpha_cfw = std::min(alpha_cfw, 1.0 - 1e-5);
            b0 = 1.0 - alpha_cfw;
            b1 = alpha_cfw;
        } else if (dir == Dir::kBfw) {
            const double tau = prev_step;
            for (std::size_t a = 0; a < m; ++a) {
                tmp1[a] = tau * S[a] + (1.0 - tau) * Sp[a] - st.v[a];  // "x" in AequilibraE's notation
                tmp2[a] = Y[a] - st.v[a];
                tmp3[a] = Sp[a] - S[a];
            }
            const double mu_num = dot_h(st.dt, tmp1, tmp2), mu_den = dot_h(st.dt, tmp1, tmp3);
            double mu = mu_den != 0.0 ? std::max(0.0, -mu_num / mu_den) : 0.0;
            for (std::size_t a = 0; a < m; ++a) tmp1[a] = S[a] - st.v[a];
            const double nu_num = dot_h(st.dt, tmp1, tmp2), nu_den = dot_h(st.dt, tmp1, tmp1);
            double nu = nu_den != 0.0 ? std::max(0.0, -nu_num / nu_den + mu * tau / (1.0 - tau)) : 0.0;
            if (!std::isfinite(mu) || !std::isfinite(nu)) mu = nu = 0.0;
            b0 = 1.0 / (1.0 + nu + mu);
            b1 = nu * b0;
            b2 = mu * b0;
        }
        for (int k = 0; k < K; ++k)
            for (std::size_t a = 0; a < m; ++a) {
                const double sk = b0 * y[k][a] + b1 * s[k][a] + b2 * s_prev[k][a];
                s_prev[k][a] = s[k][a];
                s[k][a] = sk;
            }
        // Step size.
        double fixed_term = 0.0;
        for (std::size_t a = 0; a < m; ++a) D[a] = 0.0;
        for (int k = 0; k < K; ++k)
            for (std::size_t a = 0; a < m; ++a) {
                const double d = s[k][a] - st.x[k][a];
                D[a] += d;
                if (pb.has_fixed[k]) fixed_term += d * pb.fixed[k][a];
            }
        double lambda;
        if (opt.algorithm == Algorithm::kMsa) {
            lambda = 1.0 / it;
        } else {
            LineSearch ls{pb, st.v, D, fixed_term};
            lambda = ls.solve(1.0);
            if (lambda <= 0.0 && dir != Dir::kFw) {
                // The conjugate direction is no descent direction: fall back to plain FW.
                for (int k = 0; k < K; ++k) s[k] = y[k];
                fixed_term = 0.0;
                for (std::size_t a = 0; a < m; ++a) D[a] = 0.0;
                for (int k = 0; k < K; ++k)
                    for (std::size_t a = 0; a < m; ++a) {
                        const double d = s[k][a] - st.x[k][a];
                        D[a] += d;
                        if (pb.has_fixed[k]) fixed_term += d * pb.fixed[k][a];
                    }
                LineSearch ls2{pb, st.v, D, fixed_term};
                lambda = ls2.solve(1.0);
                dir = Dir::kFw;
            }
        }
        for (int k = 0; k < K; ++k)
            for (std::size_t a = 0; a < m; ++a) st.x[k][a] += lambda * (s[k][a] - st.x[k][a]);
        prev_step = lambda;
        // Direction schedule: FW, then CFW, then BFW; a full step (the solution became the
        // direction point) or a fallback restarts it with FW.
        if (lambda >= 1.0 - 1e-12) next = Dir::kFw;
        else if (dir == Dir::kFw) next = Dir::kCfw;
        else next = Dir::kBfw;
        if (opt.algorithm == Algorithm::kConjugateFrankWolfe && next == Dir::kBfw) next = Dir::kCfw;
    }
    detail::finish_result(pb, st.x, sptc, res);
    return res;
}

}  // namespace

AssignmentResult assign(const AssignmentNetwork& net, const LinkPerformanceView& vdf,
                        const std::vector<TrafficClass>& classes, const AssignmentOptions& options) {
    const detail::Problem pb = detail::make_problem(net, vdf, classes, options);
    if (options.algorithm == Algorithm::kBush) return detail::assign_bush(pb, options);
    return assign_link_based(pb, options);
}

}  // namespace smartcore
