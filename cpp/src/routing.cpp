#include "smartcore/routing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <queue>
#include <string>

#include "smartcore/routing_parallel.hpp"

namespace smartcore {

namespace {

std::string num(double x) {
    if (std::isnan(x)) return "nan";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

void validate_star(StarView fs) {
    if (fs.first.size() < 1) throw InputError("fs_first", -1, "fs_first must have num_nodes + 1 entries");
    const std::size_t m = fs.link.size();
    if (fs.other.size() != m)
        throw InputError("fs_head", -1, "fs_head and fs_link must have the same length");
    if (fs.first[0] != 0 || static_cast<std::size_t>(fs.first[fs.first.size() - 1]) != m)
        throw InputError("fs_first", -1, "fs_first must start at 0 and end at the number of links");
    const index_t n = fs.num_nodes();
    for (index_t v = 0; v < n; ++v)
        if (fs.first[v + 1] < fs.first[v])
            throw InputError("fs_first", v, "fs_first must be non-decreasing");
    for (std::size_t e = 0; e < m; ++e) {
        if (fs.other[e] < 0 || fs.other[e] >= n)
            throw InputError("fs_head", static_cast<std::int64_t>(e), "fs_head entry out of range");
        if (fs.link[e] < 0 || static_cast<std::size_t>(fs.link[e]) >= m)
            throw InputError("fs_link", static_cast<std::int64_t>(e), "fs_link entry out of range");
    }
}

void validate_first_thru_node(index_t first_thru_node, index_t num_nodes) {
    if (first_thru_node < 0 || first_thru_node > num_nodes)
        throw InputError("first_thru_node", -1,
                         "first_thru_node " + std::to_string(first_thru_node) + " is outside [0, " +
                             std::to_string(num_nodes) + "]");
}

void validate_radius(double radius) {
    if (std::isnan(radius) || radius < 0)
        throw InputError("radius", -1, "radius must be >= 0 (inf for no limit), got " + num(radius));
}

template <class T>
void check_length(Span<T> s, std::size_t expected, const char* field) {
    if (s.size() != expected)
        throw InputError(field, -1, std::string(field) + ": expected length " + std::to_string(expected) +
                                        ", got " + std::to_string(s.size()));
}

// What every graph type checks of its network (see the constructors in routing.hpp).
void validate_network(StarView fs, Span<const double> weight, index_t first_thru_node) {
    validate_star(fs);
    validate_weight(weight, fs.link.size());
    validate_first_thru_node(first_thru_node, fs.num_nodes());
}

// What every one-to-all tree checks (see shortest_path_tree in routing.hpp).
void validate_tree(index_t num_nodes, index_t origin, Span<const index_t> targets, double radius,
                   Span<double> dist, Span<index_t> pred_link) {
    validate_nodes(Span<const index_t>(&origin, 1), num_nodes, "origin");
    validate_nodes(targets, num_nodes, "targets");
    validate_radius(radius);
    check_length(dist, static_cast<std::size_t>(num_nodes), "dist");
    check_length(pred_link, static_cast<std::size_t>(num_nodes), "pred_link");
}

// Breadth-first order over the undirected graph: a search touches a node's neighbours right after
// the node, and BFS gives them nearby ids, so their labels share cache lines. Nodes below
// first_thru_node keep their ids (the zones rule compares ids). Seeds are taken in increasing id
// order, so the order is deterministic. Returns internal -> network node.
std::vector<index_t> bfs_order(StarView fs, index_t first_thru_node) {
    const index_t n = fs.num_nodes();
    const std::size_t m = fs.link.size();
    std::vector<index_t> adj_first(static_cast<std::size_t>(n) + 1, 0), adj(2 * m);
    for (index_t v = 0; v < n; ++v)
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e) {
            ++adj_first[static_cast<std::size_t>(v) + 1];
            ++adj_first[static_cast<std::size_t>(fs.other[e]) + 1];
        }
    for (index_t v = 0; v < n; ++v) adj_first[v + 1] += adj_first[v];
    std::vector<index_t> cursor(adj_first.begin(), adj_first.end() - 1);
    for (index_t v = 0; v < n; ++v)
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e) {
            adj[cursor[v]++] = fs.other[e];
            adj[cursor[fs.other[e]]++] = v;
        }
    std::vector<index_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.begin() + first_thru_node, 0);
    std::vector<char> seen(static_cast<std::size_t>(n), 0);
    std::vector<index_t> queue;
    queue.reserve(static_cast<std::size_t>(n));
    index_t next_id = first_thru_node;
    for (index_t seed = 0; seed < n; ++seed) {
        if (seen[seed]) continue;
        seen[seed] = 1;
        queue.clear();
        queue.push_back(seed);
        for (std::size_t qi = 0; qi < queue.size(); ++qi) {
            const index_t v = queue[qi];
            if (v >= first_thru_node) order[next_id++] = v;
            for (index_t a = adj_first[v]; a < adj_first[v + 1]; ++a)
                if (!seen[adj[a]]) {
                    seen[adj[a]] = 1;
                    queue.push_back(adj[a]);
                }
        }
    }
    return order;
}

// Mean over links of log2(1 + |id gap|) between the end nodes under `order` (internal -> network):
// the number of cache lines apart a search finds a node's neighbours, roughly, on a log scale.
double locality_cost(StarView fs, const std::vector<index_t>& order) {
    const index_t n = fs.num_nodes();
    std::vector<index_t> pos(static_cast<std::size_t>(n));
    for (index_t u = 0; u < n; ++u) pos[order[u]] = u;
    double sum = 0;
    for (index_t v = 0; v < n; ++v)
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e)
            sum += std::log2(1.0 + std::abs(static_cast<double>(pos[v]) - pos[fs.other[e]]));
    return fs.link.empty() ? 0.0 : sum / static_cast<double>(fs.link.size());
}

}  // namespace

void validate_weight(Span<const double> weight, std::size_t num_links) {
    if (weight.size() != num_links)
        throw InputError("weight", -1,
                         "weight must have one value per link (" + std::to_string(num_links) +
                             "), got " + std::to_string(weight.size()));
    for (std::size_t i = 0; i < weight.size(); ++i) {
        const double w = weight[i];
        // Written so that NaN fails too.
        if (!(w >= 0.0 && w < kInf))
            throw InputError("weight", static_cast<std::int64_t>(i),
                             "weight of link " + std::to_string(i) + " is " + num(w) +
                                 " (must be finite and >= 0)");
    }
}

void validate_nodes(Span<const index_t> ids, index_t num_nodes, const char* field) {
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= num_nodes)
            throw InputError(field, static_cast<std::int64_t>(i),
                             std::string(field) + "[" + std::to_string(i) + "]: node " +
                                 std::to_string(ids[i]) + " is outside [0, " +
                                 std::to_string(num_nodes) + ")");
}

void validate_pairs(Span<const index_t> origins, Span<const index_t> dests, index_t num_nodes) {
    if (dests.size() != origins.size())
        throw InputError("destinations", -1,
                         "origins and destinations must have the same length (" +
                             std::to_string(origins.size()) + " != " + std::to_string(dests.size()) + ")");
    validate_nodes(origins, num_nodes, "origins");
    validate_nodes(dests, num_nodes, "destinations");
}

// ------------------------------------------------------------------------------------------------
LinkWeightView::LinkWeightView(StarView forward, Span<const double> weight, index_t first_thru_node)
    : fs_(forward), weight_(weight), first_thru_node_(first_thru_node) {
    validate_network(forward, weight, first_thru_node);
}

RoutingGraph::RoutingGraph(StarView fs, Span<const double> weight, index_t first_thru_node, Order order)
    : first_thru_node_(first_thru_node) {
    validate_network(fs, weight, first_thru_node);
    const index_t n = fs.num_nodes();
    const std::size_t m = fs.link.size();

    external_.resize(static_cast<std::size_t>(n));
    std::iota(external_.begin(), external_.end(), 0);
    if (order == Order::kLocality && n > 0) {
        std::vector<index_t> bfs = bfs_order(fs, first_thru_node);
        // BFS beats a random input order by far (1.7x on a scrambled 1M-node grid) but loses to
        // an order that is local already (row-major grid: 1.3x), so keep the better one.
        if (locality_cost(fs, bfs) < locality_cost(fs, external_)) external_ = std::move(bfs);
    }
    internal_.resize(static_cast<std::size_t>(n));
    for (index_t u = 0; u < n; ++u) internal_[external_[u]] = u;

    first_.assign(static_cast<std::size_t>(n) + 1, 0);
    head_.resize(m);
    link_.resize(m);
    cost_.resize(m);
    index_t pos = 0;
    for (index_t u = 0; u < n; ++u) {
        const index_t v = external_[u];
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e, ++pos) {
            head_[pos] = internal_[fs.other[e]];
            link_[pos] = fs.link[e];
            cost_[pos] = weight[fs.link[e]];
        }
        first_[u + 1] = pos;
    }
}

RoutingGraph RoutingGraph::with_weight(Span<const double> weight) const {
    validate_weight(weight, link_.size());
    RoutingGraph g = *this;
    for (std::size_t e = 0; e < link_.size(); ++e) g.cost_[e] = weight[link_[e]];
    return g;
}

// ------------------------------------------------------------------------------------------------
index_t tail_of(Span<const index_t> first, index_t edge) {
    // The last node v with first[v] <= edge: nodes without links share their successor's offset.
    return static_cast<index_t>(std::upper_bound(first.begin(), first.end(), edge) - first.begin()) - 1;
}

void RadixHeap::clear() {
    for (auto& b : buckets_) b.clear();
    last_ = 0;
    occupied_ = 0;
    size_ = 0;
}

void RadixHeap::refill() {
    // Move the lowest non-empty bucket down: its minimum becomes last_, and every entry of it
    // lands in a strictly lower bucket (at least the minimum lands in bucket 0). Buckets >= 1
    // lose entries only here, so occupied_ is exact.
    const int i = __builtin_ctzll(occupied_) + 1;
    occupied_ &= occupied_ - 1;
    auto& b = buckets_[i];
    std::uint64_t lo = b[0].key;
    for (const Entry& e : b) lo = std::min(lo, e.key);
    last_ = lo;
    for (const Entry& e : b) put(e);
    b.clear();
}

void DijkstraQuery::resize(index_t num_nodes) {
    label_.assign(static_cast<std::size_t>(num_nodes), Label{kInf, 0, kInvalidIndex});
    heap_.clear();
    base_ = 0;
    targets_.resize(num_nodes);
    num_settled_ = 0;
}

void DijkstraQuery::next_stamp() {
    if (base_ >= std::numeric_limits<std::uint32_t>::max() - 2) {
        // After 2^31 searches the stamps run out: forget every label once.
        for (Label& l : label_) l.stamp = 0;
        base_ = 0;
    }
    base_ += 2;
}

template <class Graph>
void DijkstraQuery::run(const Graph& g, index_t source, double radius) {
    next_stamp();
    heap_.clear();
    num_settled_ = 0;
    index_t remaining = targets_.size();
    const bool stop_at_targets = remaining > 0;
    const index_t first_thru = g.first_thru_node();
    const std::uint32_t reached = base_, settled = base_ + 1;

    label_[source] = Label{0.0, reached, kInvalidIndex};
    heap_.push(0.0, source);
    while (!heap_.empty()) {
        const auto [d, v] = heap_.pop();
        Label& lv = label_[v];
        if (lv.stamp != reached || d != lv.dist) continue;  // settled already, or a stale entry
        if (d > radius) break;                                // keys only grow from here
        lv.stamp = settled;
        ++num_settled_;
        if (stop_at_targets && targets_.contains(v) && --remaining == 0) break;
        if (v < first_thru && v != source) continue;  // zones rule: settle, never pass through
        for (index_t e = g.begin(v), end = g.end(v); e < end; ++e) {
            const index_t w = g.head(e);
            const double nd = d + g.cost(e);
            Label& l = label_[w];
            if (l.stamp < reached) {
                l = Label{nd, reached, e};
                heap_.push(nd, w);
            } else if (nd < l.dist) {
                // w cannot be settled here: weights are >= 0, so nd >= d >= (settled cost of w).
                l.dist = nd;
                l.pred_edge = e;
                heap_.push(nd, w);
            }
        }
    }
}

template void DijkstraQuery::run<LinkWeightView>(const LinkWeightView&, index_t, double);
template void DijkstraQuery::run<RoutingGraph>(const RoutingGraph&, index_t, double);

// ------------------------------------------------------------------------------------------------
namespace {

template <class Graph>
void tree_impl(const Graph& g, DijkstraQuery& q, index_t origin, Span<const index_t> targets,
               double radius, Span<double> dist, Span<index_t> pred_link) {
    const index_t n = g.num_nodes();
    validate_tree(n, origin, targets, radius, dist, pred_link);
    if (q.num_nodes() != n) q.resize(n);
    std::vector<index_t> internal(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) internal[i] = g.to_internal(targets[i]);
    q.set_targets(internal);
    q.run(g, g.to_internal(origin), radius);
    for (index_t u = 0; u < n; ++u) {
        const index_t v = g.to_external(u);
        dist[v] = q.distance(u);
        const index_t e = q.pred_edge(u);
        pred_link[v] = e == kInvalidIndex ? kInvalidIndex : g.link(e);
    }
}

}  // namespace

void shortest_path_tree(const RoutingGraph& g, DijkstraQuery& q, index_t origin,
                        Span<const index_t> targets, double radius, Span<double> dist,
                        Span<index_t> pred_link) {
    tree_impl(g, q, origin, targets, radius, dist, pred_link);
}

void shortest_path_tree(const LinkWeightView& g, DijkstraQuery& q, index_t origin,
                        Span<const index_t> targets, double radius, Span<double> dist,
                        Span<index_t> pred_link) {
    tree_impl(g, q, origin, targets, radius, dist, pred_link);
}

void reference_dijkstra(StarView forward, Span<const double> weight, index_t first_thru_node,
                        index_t origin, Span<double> dist, Span<index_t> pred_link) {
    const LinkWeightView g(forward, weight, first_thru_node);  // validates
    const index_t n = g.num_nodes();
    validate_tree(n, origin, {}, kInf, dist, pred_link);
    std::fill(dist.begin(), dist.end(), kInf);
    std::fill(pred_link.begin(), pred_link.end(), kInvalidIndex);
    using Item = std::pair<double, index_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
    dist[origin] = 0.0;
    heap.push({0.0, origin});
    while (!heap.empty()) {
        const auto [d, v] = heap.top();
        heap.pop();
        if (d > dist[v]) continue;  // stale entry
        if (v < first_thru_node && v != origin) continue;
        for (index_t e = forward.first[v]; e < forward.first[v + 1]; ++e) {
            const index_t w = forward.other[e];
            const double nd = d + weight[forward.link[e]];
            if (nd < dist[w]) {
                dist[w] = nd;
                pred_link[w] = forward.link[e];
                heap.push({nd, w});
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Turns.
TurnGraph::TurnGraph(StarView fs, Span<const double> weight, index_t first_thru_node,
                     Span<const index_t> turn_from, Span<const index_t> turn_to,
                     Span<const double> turn_penalty)
    : first_thru_node_(first_thru_node) {
    validate_network(fs, weight, first_thru_node);
    const index_t n = fs.num_nodes();
    const std::size_t m = fs.link.size();
    first_.assign(fs.first.begin(), fs.first.end());
    head_.assign(fs.other.begin(), fs.other.end());
    link_.assign(fs.link.begin(), fs.link.end());
    tail_.resize(m);
    cost_.resize(m);
    edge_of_link_.resize(m);
    for (index_t v = 0; v < n; ++v)
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e) {
            tail_[e] = v;
            cost_[e] = weight[fs.link[e]];
            edge_of_link_[fs.link[e]] = e;
        }
    const std::size_t k = turn_from.size();
    if (turn_to.size() != k || turn_penalty.size() != k)
        throw InputError("turns", -1,
                         "turns: from, to and penalty must have the same length (" + std::to_string(k) +
                             ", " + std::to_string(turn_to.size()) + ", " +
                             std::to_string(turn_penalty.size()) + ")");
    struct Turn {
        index_t from, to;
        double penalty;
    };
    std::vector<Turn> turns(k);
    for (std::size_t i = 0; i < k; ++i) {
        const index_t a = turn_from[i], b = turn_to[i];
        const double p = turn_penalty[i];
        const auto where = static_cast<std::int64_t>(i);
        if (a < 0 || static_cast<std::size_t>(a) >= m || b < 0 || static_cast<std::size_t>(b) >= m)
            throw InputError("turns", where,
                             "turn " + std::to_string(i) + ": link " +
                                 std::to_string(a < 0 || static_cast<std::size_t>(a) >= m ? a : b) +
                                 " is outside [0, " + std::to_string(m) + ")");
        const index_t ea = edge_of_link_[a], eb = edge_of_link_[b];
        if (head_[ea] != tail_[eb])
            throw InputError("turns", where,
                             "turn " + std::to_string(i) + ": link " + std::to_string(b) +
                                 " does not start where link " + std::to_string(a) + " ends");
        if (!(p >= 0))  // NaN too
            throw InputError("turns", where,
                             "turn " + std::to_string(i) + ": penalty " + num(p) +
                                 " (must be >= 0, inf to ban the turn)");
        turns[i] = {ea, eb, p};
    }
    std::sort(turns.begin(), turns.end(), [](const Turn& x, const Turn& y) {
        return x.from != y.from ? x.from < y.from : x.to < y.to;
    });
    turn_first_.assign(m + 1, 0);
    for (std::size_t i = 0; i < k; ++i) {
        const Turn& t = turns[i];
        if (!turn_to_.empty() && i > 0 && turns[i - 1].from == t.from && turns[i - 1].to == t.to) {
            turn_penalty_.back() = std::max(turn_penalty_.back(), t.penalty);  // duplicate
            continue;
        }
        turn_to_.push_back(t.to);
        turn_penalty_.push_back(t.penalty);
        ++turn_first_[static_cast<std::size_t>(t.from) + 1];
    }
    for (std::size_t e = 0; e < m; ++e) turn_first_[e + 1] += turn_first_[e];
}

TurnGraph TurnGraph::with_weight(Span<const double> weight) const {
    validate_weight(weight, link_.size());
    TurnGraph g = *this;
    for (std::size_t e = 0; e < link_.size(); ++e) g.cost_[e] = weight[link_[e]];
    return g;
}

void TurnQuery::resize(index_t num_nodes) {
    node_.assign(static_cast<std::size_t>(num_nodes), Label{kInf, 0, kInvalidIndex});
    edge_.clear();
    targets_.resize(num_nodes);
    base_ = 0;
    heap_.clear();
}

void TurnQuery::run(const TurnGraph& g, index_t origin, double radius) {
    if (edge_.size() != g.head_.size()) edge_.assign(g.head_.size(), Label{kInf, 0, kInvalidIndex});
    if (base_ >= std::numeric_limits<std::uint32_t>::max() - 2) {
        for (Label& l : edge_) l.stamp = 0;
        for (Label& l : node_) l.stamp = 0;
        base_ = 0;
    }
    base_ += 2;
    g_ = &g;
    origin_ = origin;
    heap_.clear();
    const std::uint32_t reached = base_, settled = base_ + 1;
    index_t remaining = targets_.size();
    const bool stop_at_targets = remaining > 0;
    const index_t first_thru = g.first_thru_node_;

    // The origin is settled at cost 0, entered by no link.
    node_[origin] = Label{0.0, reached, kInvalidIndex};
    if (stop_at_targets && targets_.contains(origin) && --remaining == 0) return;
    for (index_t b = g.first_[origin]; b < g.first_[origin + 1]; ++b) {
        const double nd = g.cost_[b];
        Label& l = edge_[b];
        if (l.stamp < reached || nd < l.dist) {
            l = Label{nd, reached, kInvalidIndex};
            heap_.push(nd, b);
        }
    }
    while (!heap_.empty()) {
        const auto [d, a] = heap_.pop();
        Label& la = edge_[a];
        if (la.stamp != reached || d != la.dist) continue;  // settled already, or stale
        if (d > radius) break;
        la.stamp = settled;
        const index_t v = g.head_[a];
        Label& nv = node_[v];
        if (nv.stamp != reached) {  // the first (cheapest) link into v settles v
            nv = Label{d, reached, a};
            if (stop_at_targets && targets_.contains(v) && --remaining == 0) break;
        }
        if (v < first_thru) continue;  // zones rule: a path entering a zone ends there
        // Merge the links leaving v with a's turns (both sorted by edge).
        index_t k = g.turn_first_[a];
        const index_t k_end = g.turn_first_[a + 1];
        for (index_t b = g.first_[v], end = g.first_[v + 1]; b < end; ++b) {
            double penalty = 0.0;
            while (k < k_end && g.turn_to_[k] < b) ++k;
            if (k < k_end && g.turn_to_[k] == b) {
                penalty = g.turn_penalty_[k];
                if (penalty == kInf) continue;  // banned
            }
            const double nd = d + penalty + g.cost_[b];
            Label& l = edge_[b];
            if (l.stamp < reached) {
                l = Label{nd, reached, a};
                heap_.push(nd, b);
            } else if (nd < l.dist) {
                l.dist = nd;
                l.pred = a;
                heap_.push(nd, b);
            }
        }
    }
}

index_t TurnQuery::last_link(index_t v) const {
    if (node_[v].stamp != base_ || node_[v].pred == kInvalidIndex) return kInvalidIndex;
    return g_->link_[node_[v].pred];
}

void TurnQuery::path(index_t v, std::vector<index_t>& links) const {
    if (node_[v].stamp != base_) return;
    const std::size_t start = links.size();
    for (index_t e = node_[v].pred; e != kInvalidIndex; e = edge_[e].pred) links.push_back(g_->link_[e]);
    std::reverse(links.begin() + static_cast<std::ptrdiff_t>(start), links.end());
}

void shortest_path_tree(const TurnGraph& g, TurnQuery& q, index_t origin, Span<const index_t> targets,
                        double radius, Span<double> dist, Span<index_t> pred_link) {
    const index_t n = g.num_nodes();
    validate_tree(n, origin, targets, radius, dist, pred_link);
    if (q.num_nodes() != n) q.resize(n);
    q.set_targets(targets);
    q.run(g, origin, radius);
    for (index_t v = 0; v < n; ++v) {
        dist[v] = q.distance(v);
        pred_link[v] = q.last_link(v);
    }
}

// ------------------------------------------------------------------------------------------------
// Batched queries, one code for RoutingGraph and TurnGraph. What differs between them: the ids a
// search takes (RoutingGraph renumbers nodes; TurnGraph keeps the network's) and how a path is
// read back from the workspace.
namespace {

index_t search_id(const RoutingGraph& g, index_t v) { return g.to_internal(v); }
index_t search_id(const TurnGraph&, index_t v) { return v; }

// Appends the network links of the path found from `source` to t (nothing when t is unsettled).
void append_path(const RoutingGraph& g, const DijkstraQuery& q, index_t source, index_t t,
                 std::vector<index_t>& links) {
    const std::size_t start = links.size();
    if (q.settled(t))
        for (index_t v = t; v != source;) {
            const index_t e = q.pred_edge(v);
            links.push_back(g.link(e));
            v = g.tail(e);
        }
    std::reverse(links.begin() + static_cast<std::ptrdiff_t>(start), links.end());
}
void append_path(const TurnGraph&, const TurnQuery& q, index_t, index_t t, std::vector<index_t>& links) {
    q.path(t, links);
}

// One search per origin, stopped once every target is settled.
template <class Graph, class Pool>
void matrix_impl(const Graph& g, Span<const index_t> origins, Span<const index_t> targets, Span<double> out,
                 int threads, const ProgressFn& progress, Pool* pool) {
    const index_t n = g.num_nodes();
    validate_nodes(origins, n, "origins");
    validate_nodes(targets, n, "targets");
    const std::size_t nt = targets.size();
    check_length(out, origins.size() * nt, "out");
    // Without targets there is nothing to stop at, and nothing to report.
    if (origins.empty() || nt == 0) return;
    std::vector<index_t> internal(nt);
    for (std::size_t j = 0; j < nt; ++j) internal[j] = search_id(g, targets[j]);
    const int nthreads = resolve_threads(threads, static_cast<std::int64_t>(origins.size()));
    WorkerSpaces<Pool> ws(pool, nthreads, n);
    parallel_for(static_cast<std::int64_t>(origins.size()), nthreads, progress, [&](int worker, std::int64_t i) {
        auto& q = ws.get(worker, [&](auto& fresh) { fresh.set_targets(internal); });
        q.run(g, search_id(g, origins[static_cast<std::size_t>(i)]));
        double* row = out.data() + static_cast<std::size_t>(i) * nt;
        for (std::size_t j = 0; j < nt; ++j) row[j] = q.distance(internal[j]);
    });
}

// Pair queries, one search per distinct origin: the queries are sorted by origin (stably, so that
// the grouping is deterministic) and the groups are the work items (see answer_paths).
template <class Graph, class Pool>
class ByOrigin {
public:
    ByOrigin(const Graph& g, Span<const index_t> origins, Span<const index_t> dests, int threads, Pool* pool)
        : g_(g), origins_(origins), dests_(dests), order_(origins.size()),
          group_start_(group_starts(origins, order_)),
          workers_(resolve_threads(threads, items())), ws_(pool, workers_, g.num_nodes()) {}

    std::int64_t items() const { return static_cast<std::int64_t>(group_start_.size()) - 1; }
    int workers() const { return workers_; }

    void operator()(int worker, std::int64_t item, Span<double> cost, OrderedConcat<index_t>* paths) {
        auto& q = ws_.get(worker);
        const std::size_t lo = group_start_[static_cast<std::size_t>(item)];
        const std::size_t hi = group_start_[static_cast<std::size_t>(item) + 1];
        std::vector<index_t> targets;
        targets.reserve(hi - lo);
        for (std::size_t k = lo; k < hi; ++k) targets.push_back(search_id(g_, dests_[order_[k]]));
        q.set_targets(targets);
        const index_t source = search_id(g_, origins_[order_[lo]]);
        q.run(g_, source);
        for (std::size_t k = lo; k < hi; ++k) {
            const std::size_t i = static_cast<std::size_t>(order_[k]);
            const index_t t = targets[k - lo];
            cost[i] = q.distance(t);
            if (!paths) continue;
            append_path(g_, q, source, t, paths->begin(i, worker));
            paths->end(i);
        }
    }

private:
    // Sorts `order` (the query indices) by origin; returns where each group starts, then the end.
    static std::vector<std::size_t> group_starts(Span<const index_t> origins, std::vector<index_t>& order) {
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](index_t a, index_t b) { return origins[a] < origins[b]; });
        std::vector<std::size_t> start;
        for (std::size_t k = 0; k < order.size(); ++k)
            if (k == 0 || origins[order[k]] != origins[order[k - 1]]) start.push_back(k);
        start.push_back(order.size());
        return start;
    }

    const Graph& g_;
    Span<const index_t> origins_, dests_;
    std::vector<index_t> order_;
    std::vector<std::size_t> group_start_;  // group k: order_[group_start_[k] .. group_start_[k+1])
    int workers_;
    WorkerSpaces<Pool> ws_;
};

template <class Graph, class Pool>
PathBatch paths_impl(const Graph& g, Span<const index_t> origins, Span<const index_t> dests, int threads,
                     const ProgressFn& progress, Pool* pool) {
    validate_pairs(origins, dests, g.num_nodes());
    ByOrigin<Graph, Pool> batch(g, origins, dests, threads, pool);
    return answer_paths(origins.size(), batch, progress);
}

}  // namespace

void distance_matrix(const RoutingGraph& g, Span<const index_t> origins, Span<const index_t> targets,
                     Span<double> out, int threads, const ProgressFn& progress, DijkstraPool* pool) {
    matrix_impl(g, origins, targets, out, threads, progress, pool);
}

void distance_matrix(const TurnGraph& g, Span<const index_t> origins, Span<const index_t> targets,
                     Span<double> out, int threads, const ProgressFn& progress, TurnPool* pool) {
    matrix_impl(g, origins, targets, out, threads, progress, pool);
}

PathBatch shortest_paths(const RoutingGraph& g, Span<const index_t> origins, Span<const index_t> dests,
                         int threads, const ProgressFn& progress, DijkstraPool* pool) {
    return paths_impl(g, origins, dests, threads, progress, pool);
}

PathBatch shortest_paths(const TurnGraph& g, Span<const index_t> origins, Span<const index_t> dests,
                         int threads, const ProgressFn& progress, TurnPool* pool) {
    return paths_impl(g, origins, dests, threads, progress, pool);
}

void shortest_path_costs(const RoutingGraph& g, Span<const index_t> origins, Span<const index_t> dests,
                         Span<double> out, int threads, const ProgressFn& progress, DijkstraPool* pool) {
    validate_pairs(origins, dests, g.num_nodes());
    check_length(out, origins.size(), "out");
    ByOrigin<RoutingGraph, DijkstraPool> batch(g, origins, dests, threads, pool);
    answer_costs(out, batch, progress);
}

}  // namespace smartcore
