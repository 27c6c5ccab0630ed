// Analysis of assignment solutions: skims, select-link flows, path flows and origin flows (see
// the declarations in smartcore/assignment.hpp for the proportional decomposition they share).
//
// Every function on a BushSolution is one pass per bush in topological order, so its cost is that
// of a label scan of the bushes (the solver does dozens of those per iteration). Bushes are
// independent: threads take bushes on a static schedule, each with its own node arrays, and
// write disjoint rows of the output, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <string>

#include "smartcore/assignment_detail.hpp"

namespace smartcore {

namespace {

using detail::Bush;

void check_class(const BushSolution& s, int cls, bool allow_all) {
    if (allow_all && cls == -1) return;
    if (cls < 0 || static_cast<std::size_t>(cls) >= s.pce.size())
        throw InputError("cls", cls, "class index " + std::to_string(cls) + " outside [0, " +
                                         std::to_string(s.pce.size()) + ")");
}

void check_zone(const BushSolution& s, index_t z, const char* field) {
    if (z < 0 || static_cast<std::size_t>(z) >= s.zone_node.size())
        throw InputError(field, z, std::string(field) + " index " + std::to_string(z) + " outside [0, " +
                                       std::to_string(s.zone_node.size()) + ")");
}

void check_matrix(Span<double> out, std::size_t z, const char* field) {
    if (out.size() != z * z)
        throw InputError(field, -1, std::string(field) + ": expected zones x zones = " +
                                        std::to_string(z * z) + " entries, got " + std::to_string(out.size()));
}

// Bushes of a class (or all classes for cls = -1), in solution order.
std::vector<std::size_t> bushes_of(const BushSolution& s, int cls) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < s.bushes.size(); ++i)
        if (cls == -1 || s.bushes[i].cls == cls) out.push_back(i);
    return out;
}

// Inflow of every bush position (sum of the incoming bush flows) into `x` (size N).
void throughflow(const Bush& b, std::vector<double>& x) {
    const std::size_t N = b.order.size();
    x.assign(N, 0.0);
    for (std::size_t k = 1; k < N; ++k)
        for (index_t p = b.in_first[k]; p < b.in_first[k + 1]; ++p) x[k] += b.in_flow[p];
}

}  // namespace

std::int64_t bush_count(const BushSolution& s) { return static_cast<std::int64_t>(s.bushes.size()); }

std::int64_t bush_memory_bytes(const BushSolution& s) {
    std::int64_t bytes = 0;
    for (const Bush& b : s.bushes)
        bytes += static_cast<std::int64_t>(sizeof(Bush) + b.order.capacity() * sizeof(index_t) +
                                           b.in_first.capacity() * sizeof(index_t) +
                                           b.in_link.capacity() * sizeof(index_t) +
                                           b.in_tail.capacity() * sizeof(index_t) +
                                           b.in_flow.capacity() * sizeof(double) +
                                           b.dest.capacity() * (2 * sizeof(index_t) + sizeof(double)));
    return bytes;
}

void check_bush_solution(const BushSolution& s, const AssignmentNetwork& net, const char* field) {
    const bool same = s.num_nodes == net.num_nodes() && s.num_links == net.num_links() &&
                      s.first_thru_node == net.first_thru_node &&
                      std::equal(s.tail.begin(), s.tail.end(), net.tail.begin(), net.tail.end()) &&
                      std::equal(s.head.begin(), s.head.end(), net.head.begin(), net.head.end()) &&
                      std::equal(s.zone_node.begin(), s.zone_node.end(), net.zone_node.begin(),
                                 net.zone_node.end());
    if (!same)
        throw InputError(field, -1, std::string(field) +
                                        ": the bushes belong to another network (nodes, links, "
                                        "first_thru_node or zones differ)");
}

// ------------------------------------------------------------------------------------------------

void shortest_path_skims(const AssignmentNetwork& net, Span<const double> cost,
                         const std::vector<Span<const double>>& values, const std::vector<Span<double>>& out,
                         int threads) {
    const std::size_t m = static_cast<std::size_t>(net.num_links()), z = net.zone_node.size();
    validate_weight(cost, m);
    validate_nodes(net.zone_node, net.num_nodes(), "zone_node");
    if (values.size() != out.size()) throw InputError("values", -1, "one output matrix per value array");
    for (std::size_t v = 0; v < values.size(); ++v) {
        if (values[v].size() != m) throw InputError("values", static_cast<std::int64_t>(v), "values need one entry per link");
        check_matrix(out[v], z, "out");
    }
    const index_t n = net.num_nodes();
    const RoutingGraph g(net.forward, cost, net.first_thru_node, RoutingGraph::Order::kInput);
    const int T = static_cast<int>(std::min<std::int64_t>(detail::resolve_thread_count(threads),
                                                          std::max<std::int64_t>(static_cast<std::int64_t>(z), 1)));
    std::vector<DijkstraQuery> query(static_cast<std::size_t>(T));
    std::vector<std::vector<double>> acc(static_cast<std::size_t>(T));
    std::vector<std::vector<unsigned char>> done(static_cast<std::size_t>(T));
    std::vector<std::vector<index_t>> stack(static_cast<std::size_t>(T));
    for (int w = 0; w < T; ++w) {
        query[w].resize(n);
        acc[w].resize(static_cast<std::size_t>(n) * std::max<std::size_t>(values.size(), 1));
        done[w].resize(static_cast<std::size_t>(n));
    }
    const std::size_t V = values.size();
    detail::static_parallel_for(static_cast<std::int64_t>(z), T, {}, [&](int w, std::int64_t oi) {
        DijkstraQuery& q = query[w];
        const index_t s = g.to_internal(net.zone_node[static_cast<std::size_t>(oi)]);
        q.set_targets({});
        q.run(g, s);
        // Sums along the tree: walk up from each destination to a node already summed (the origin
        // first), then back down. O(nodes on the walked paths).
        std::vector<unsigned char>& dn = done[w];
        std::vector<double>& a = acc[w];
        std::vector<index_t>& st = stack[w];
        std::vector<index_t> touched;
        auto mark_done = [&](index_t u) { dn[u] = 1; touched.push_back(u); };
        for (std::size_t v = 0; v < V; ++v) a[static_cast<std::size_t>(s) * V + v] = 0.0;
        mark_done(s);
        for (std::size_t d = 0; d < z; ++d) {
            const index_t t = g.to_internal(net.zone_node[d]);
            const std::size_t cell = static_cast<std::size_t>(oi) * z + d;
            if (!q.settled(t)) {
                for (std::size_t v = 0; v < V; ++v) out[v][cell] = kInf;
                continue;
            }
            st.clear();
            for (index_t u = t; !dn[u]; u = g.to_internal(net.tail[g.link(q.pred_edge(u))])) st.push_back(u);
            while (!st.empty()) {
                const index_t u = st.back();
                st.pop_back();
                const index_t e = q.pred_edge(u);
                const index_t p = g.to_internal(net.tail[g.link(e)]);
                for (std::size_t v = 0; v < V; ++v)
                    a[static_cast<std::size_t>(u) * V + v] =
                        a[static_cast<std::size_t>(p) * V + v] + values[v][static_cast<std::size_t>(g.link(e))];
                mark_done(u);
            }
            for (std::size_t v = 0; v < V; ++v) out[v][cell] = a[static_cast<std::size_t>(t) * V + v];
        }
        for (index_t u : touched) dn[u] = 0;
    });
}

void bush_average_skims(const BushSolution& s, int cls, const std::vector<Span<const double>>& values,
                        const std::vector<Span<double>>& out, int threads) {
    check_class(s, cls, false);
    const std::size_t z = s.zone_node.size(), m = static_cast<std::size_t>(s.num_links);
    if (values.size() != out.size()) throw InputError("values", -1, "one output matrix per value array");
    for (std::size_t v = 0; v < values.size(); ++v) {
        if (values[v].size() != m) throw InputError("values", static_cast<std::int64_t>(v), "values need one entry per link");
        for (double x : values[v])
            if (std::isnan(x)) throw InputError("values", static_cast<std::int64_t>(v), "values must not be NaN");
        check_matrix(out[v], z, "out");
    }
    const std::vector<std::size_t> list = bushes_of(s, cls);
    const std::size_t V = values.size();
    const int T = static_cast<int>(std::min<std::int64_t>(detail::resolve_thread_count(threads),
                                                          std::max<std::int64_t>(static_cast<std::int64_t>(list.size()), 1)));
    std::vector<std::vector<double>> acc(static_cast<std::size_t>(T)), x(static_cast<std::size_t>(T));
    std::vector<std::vector<index_t>> pos(static_cast<std::size_t>(T),
                                          std::vector<index_t>(static_cast<std::size_t>(s.num_nodes), kInvalidIndex));
    detail::static_parallel_for(static_cast<std::int64_t>(list.size()), T, {}, [&](int w, std::int64_t i) {
        const Bush& b = s.bushes[list[static_cast<std::size_t>(i)]];
        const std::size_t N = b.order.size();
        std::vector<double>& a = acc[w];
        std::vector<index_t>& ps = pos[w];
        throughflow(b, x[w]);
        a.assign(N * V, 0.0);
        for (std::size_t k = 0; k < N; ++k) ps[b.order[k]] = static_cast<index_t>(k);
        // A_j = sum over incoming bush links (i, j) of (f_ij / x_j) (A_i + value_ij): the expected
        // value of the path of a unit of flow reaching j. Nodes without flow keep 0 (they are
        // read only through links without flow, with weight 0).
        for (std::size_t k = 1; k < N; ++k) {
            const double xj = x[w][k];
            if (!(xj > 0.0)) continue;
            for (index_t p = b.in_first[k]; p < b.in_first[k + 1]; ++p) {
                const double f = b.in_flow[p];
                if (!(f > 0.0)) continue;
                const double share = f / xj;
                const std::size_t ti = static_cast<std::size_t>(ps[b.in_tail[p]]);
                for (std::size_t v = 0; v < V; ++v)
                    a[k * V + v] += share * (a[ti * V + v] + values[v][static_cast<std::size_t>(b.in_link[p])]);
            }
        }
        for (std::size_t d = 0; d < b.dest.size(); ++d) {
            const std::size_t k = static_cast<std::size_t>(ps[b.dest[d]]);
            const std::size_t cell = static_cast<std::size_t>(b.zone) * z + static_cast<std::size_t>(b.dest_zone[d]);
            for (std::size_t v = 0; v < V; ++v) out[v][cell] = a[k * V + v];
        }
        for (index_t u : b.order) ps[u] = kInvalidIndex;
    });
}

void select_link(const BushSolution& s, int cls, Span<const index_t> links, Span<double> out, int threads) {
    check_class(s, cls, true);
    const std::size_t z = s.zone_node.size();
    check_matrix(out, z, "out");
    std::vector<unsigned char> selected(static_cast<std::size_t>(s.num_links), 0);
    for (std::size_t i = 0; i < links.size(); ++i) {
        const index_t a = links[i];
        if (a < 0 || a >= s.num_links)
            throw InputError("links", static_cast<std::int64_t>(i),
                             "link index " + std::to_string(a) + " outside [0, " + std::to_string(s.num_links) + ")");
        selected[static_cast<std::size_t>(a)] = 1;
    }
    // Classes one after another (their bushes write the same rows), bushes of a class in parallel.
    const std::size_t K = s.pce.size();
    for (std::size_t k = 0; k < K; ++k) {
        if (cls != -1 && static_cast<std::size_t>(cls) != k) continue;
        const std::vector<std::size_t> list = bushes_of(s, static_cast<int>(k));
        const double scale = cls == -1 ? 1.0 : 1.0 / s.pce[k];  // PCE, or vehicles of the class
        const int T = static_cast<int>(std::min<std::int64_t>(detail::resolve_thread_count(threads),
                                                              std::max<std::int64_t>(static_cast<std::int64_t>(list.size()), 1)));
        std::vector<std::vector<double>> share(static_cast<std::size_t>(T)), x(static_cast<std::size_t>(T));
        std::vector<std::vector<index_t>> pos(static_cast<std::size_t>(T),
                                              std::vector<index_t>(static_cast<std::size_t>(s.num_nodes), kInvalidIndex));
        detail::static_parallel_for(static_cast<std::int64_t>(list.size()), T, {}, [&](int w, std::int64_t i) {
            const Bush& b = s.bushes[list[static_cast<std::size_t>(i)]];
            const std::size_t N = b.order.size();
            std::vector<double>& sh = share[w];
            std::vector<index_t>& ps = pos[w];
            throughflow(b, x[w]);
            sh.assign(N, 0.0);
            for (std::size_t k2 = 0; k2 < N; ++k2) ps[b.order[k2]] = static_cast<index_t>(k2);
            // s_j = share of the flow reaching j that has used a selected link:
            //     sum over incoming bush links (i, j) of (f_ij / x_j) (1 if (i, j) selected, else s_i).
            for (std::size_t k2 = 1; k2 < N; ++k2) {
                const double xj = x[w][k2];
                if (!(xj > 0.0)) continue;
                double acc = 0.0;
                for (index_t p = b.in_first[k2]; p < b.in_first[k2 + 1]; ++p) {
                    const double f = b.in_flow[p];
                    if (!(f > 0.0)) continue;
                    acc += f * (selected[static_cast<std::size_t>(b.in_link[p])]
                                    ? 1.0
                                    : sh[static_cast<std::size_t>(ps[b.in_tail[p]])]);
                }
                sh[k2] = std::min(1.0, acc / xj);
            }
            for (std::size_t d = 0; d < b.dest.size(); ++d) {
                const std::size_t cell = static_cast<std::size_t>(b.zone) * z + static_cast<std::size_t>(b.dest_zone[d]);
                out[cell] += b.dest_demand[d] * scale * sh[static_cast<std::size_t>(ps[b.dest[d]])];
            }
            for (index_t u : b.order) ps[u] = kInvalidIndex;
        });
    }
}

std::vector<PathFlow> bush_path_flows(const BushSolution& s, int cls, index_t origin_zone,
                                      index_t destination_zone, std::int64_t max_paths, double min_flow) {
    check_class(s, cls, false);
    check_zone(s, origin_zone, "origin");
    check_zone(s, destination_zone, "destination");
    if (max_paths < 0) throw InputError("max_paths", -1, "max_paths must be >= 0");
    if (!(min_flow >= 0.0)) throw InputError("min_flow", -1, "min_flow must be >= 0");
    std::vector<PathFlow> out;
    const index_t bi = s.bush_of_zone[static_cast<std::size_t>(cls)][static_cast<std::size_t>(origin_zone)];
    if (bi == kInvalidIndex) return out;
    const Bush& b = s.bushes[static_cast<std::size_t>(bi)];
    double demand = 0.0;
    for (std::size_t d = 0; d < b.dest.size(); ++d)
        if (b.dest_zone[d] == destination_zone) demand += b.dest_demand[d];
    demand /= s.pce[static_cast<std::size_t>(cls)];
    if (!(demand > 0.0)) return out;
    const std::size_t N = b.order.size();
    std::vector<index_t> pos(static_cast<std::size_t>(s.num_nodes), kInvalidIndex);
    for (std::size_t k = 0; k < N; ++k) pos[b.order[k]] = static_cast<index_t>(k);
    std::vector<double> x;
    throughflow(b, x);
    // Depth-first from the destination back to the origin over incoming bush links with flow;
    // a partial path's flow is the demand times the shares of its links so far (it only
    // decreases, so pruning below min_flow is exact).
    struct Frame {
        index_t node_pos;
        index_t next;   // next incoming position to try
        double flow;    // flow of the partial path up to (and from) this node
    };
    std::vector<Frame> stack;
    std::vector<index_t> path;  // incoming positions chosen, destination first
    const index_t dpos = pos[s.zone_node[static_cast<std::size_t>(destination_zone)]];
    stack.push_back({dpos, b.in_first[static_cast<std::size_t>(dpos)], demand});
    while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.node_pos == 0) {  // reached the origin
            PathFlow pf;
            pf.flow = f.flow;
            for (std::size_t i = path.size(); i-- > 0;) pf.links.push_back(b.in_link[static_cast<std::size_t>(path[i])]);
            if (static_cast<std::int64_t>(out.size()) >= max_paths)
                throw InputError("max_paths", max_paths,
                                 "more than max_paths = " + std::to_string(max_paths) +
                                     " paths carry flow for this OD pair; raise max_paths or min_flow");
            out.push_back(std::move(pf));
            stack.pop_back();
            if (!path.empty()) path.pop_back();
            continue;
        }
        const std::size_t k = static_cast<std::size_t>(f.node_pos);
        bool pushed = false;
        while (f.next < b.in_first[k + 1]) {
            const index_t p = f.next++;
            const double fl = b.in_flow[static_cast<std::size_t>(p)];
            if (!(fl > 0.0) || !(x[k] > 0.0)) continue;
            const double flow = f.flow * (fl / x[k]);
            if (flow < min_flow || flow <= 0.0) continue;
            const index_t tp = pos[b.in_tail[static_cast<std::size_t>(p)]];
            path.push_back(p);
            stack.push_back({tp, b.in_first[static_cast<std::size_t>(tp)], flow});
            pushed = true;
            break;
        }
        if (!pushed) {
            stack.pop_back();
            if (!path.empty()) path.pop_back();
        }
    }
    return out;
}

void bush_origin_flows(const BushSolution& s, int cls, index_t origin_zone, Span<double> out) {
    check_class(s, cls, false);
    check_zone(s, origin_zone, "origin");
    if (out.size() != static_cast<std::size_t>(s.num_links))
        throw InputError("out", -1, "out needs one entry per link");
    std::fill(out.begin(), out.end(), 0.0);
    const index_t bi = s.bush_of_zone[static_cast<std::size_t>(cls)][static_cast<std::size_t>(origin_zone)];
    if (bi == kInvalidIndex) return;
    const Bush& b = s.bushes[static_cast<std::size_t>(bi)];
    const double inv = 1.0 / s.pce[static_cast<std::size_t>(cls)];
    for (std::size_t p = 0; p < b.in_link.size(); ++p) out[static_cast<std::size_t>(b.in_link[p])] += b.in_flow[p] * inv;
}

}  // namespace smartcore
