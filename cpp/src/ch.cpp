#include "smartcore/ch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <queue>
#include <string>

#include "smartcore/routing_parallel.hpp"

namespace smartcore {

namespace {

// ------------------------------------------------------------------------------------------------
// The split graph (see ch.hpp): zone z's outgoing links leave node n + z.
struct SplitArc {
    index_t tail, head, link;
};

index_t split_size(index_t n, index_t first_thru_node) { return n + first_thru_node; }

void validate_inputs(StarView fs, index_t first_thru_node) {
    // LinkWeightView validates the star and first_thru_node; a zero weight vector satisfies it.
    std::vector<double> zero(fs.link.size(), 0.0);
    (void)LinkWeightView(fs, zero, first_thru_node);
}

// Arcs of the split graph in link order, without self loops (which no shortest path uses).
std::vector<SplitArc> split_arcs(StarView fs, index_t first_thru_node) {
    const index_t n = fs.num_nodes();
    std::vector<SplitArc> arcs;
    arcs.reserve(fs.link.size());
    for (index_t v = 0; v < n; ++v) {
        const index_t tail = v < first_thru_node ? n + v : v;
        for (index_t e = fs.first[v]; e < fs.first[v + 1]; ++e)
            if (fs.other[e] != tail) arcs.push_back({tail, fs.other[e], fs.link[e]});
    }
    std::sort(arcs.begin(), arcs.end(), [](const SplitArc& a, const SplitArc& b) { return a.link < b.link; });
    return arcs;
}

void report(const ProgressFn& progress, std::int64_t done, std::int64_t total) {
    if (progress && !progress(done, total)) throw Cancelled();
}

// ------------------------------------------------------------------------------------------------
// Classic CH construction.

// Default witness search limits (settled nodes). Greedy: RoutingKit's 500. Dissection order: the
// witness searches are nearly all the build time there, and on the 300 x 300 grid a limit of 100
// built in 32 s instead of 68 s for 7% more hierarchy edges (40: 22 s, 11% more edges).
constexpr index_t kGreedyWitnessLimit = 500;
constexpr index_t kDissectionWitnessLimit = 100;
// Dissection order: around a node of degree d the limit drops to max(4, budget / d). The top
// separators of a grid end up with degrees in the thousands, where d witness searches of 100
// nodes with d arcs each cost ~d^2 * 100: on the 1000 x 1000 grid this budget cut the build from
// ~27 to ~12 CPU minutes for 3% more edges (28.7M against 27.8M).
constexpr std::size_t kDissectionWitnessBudget = 3200;

class ChBuilder {
public:
    ChBuilder(StarView fs, Span<const double> weight, index_t first_thru_node, const ChOptions& opt)
        : n_(fs.num_nodes()), m_(static_cast<index_t>(fs.link.size())), ftn_(first_thru_node),
          size_(split_size(n_, first_thru_node)),
          limit_(opt.witness_settle_limit > 0 ? opt.witness_settle_limit
                 : opt.order == ChOrder::kDissection ? kDissectionWitnessLimit : kGreedyWitnessLimit),
          budget_(opt.order == ChOrder::kDissection ? kDissectionWitnessBudget : 0),
          out_(static_cast<std::size_t>(size_)), in_(static_cast<std::size_t>(size_)) {
        // Parallel links: keep the cheapest (the first in link order on ties).
        std::vector<SplitArc> arcs = split_arcs(fs, first_thru_node);
        std::stable_sort(arcs.begin(), arcs.end(), [&](const SplitArc& a, const SplitArc& b) {
            if (a.tail != b.tail) return a.tail < b.tail;
            if (a.head != b.head) return a.head < b.head;
            return weight[a.link] < weight[b.link];
        });
        for (std::size_t i = 0; i < arcs.size(); ++i) {
            const SplitArc& a = arcs[i];
            if (i > 0 && arcs[i - 1].tail == a.tail && arcs[i - 1].head == a.head) continue;
            const double w = weight[a.link];
            out_[a.tail].push_back({a.head, w, {a.link, kInvalidIndex}, 1});
            in_[a.head].push_back({a.tail, w, {a.link, kInvalidIndex}, 1});
        }
        dist_.assign(static_cast<std::size_t>(size_), kInf);
        stamp_.assign(static_cast<std::size_t>(size_), 0);
        target_.assign(static_cast<std::size_t>(size_), 0);
        edge_of_.assign(static_cast<std::size_t>(size_), kInvalidIndex);
        edge_stamp_.assign(static_cast<std::size_t>(size_), -1);
    }

    // Greedy order: contracts the node of least priority next.
    Hierarchy build(const ProgressFn& progress) {
        std::vector<std::int64_t> prio(static_cast<std::size_t>(size_));
        using Item = std::pair<std::int64_t, index_t>;  // ties by node id: deterministic
        std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
        start();
        // RoutingKit's priority (contraction_hierarchy.cpp): level, plus the ratios of arcs and of
        // network links (hops) added by the shortcuts to those removed with v, in thousandths.
        // Against 2 * edge difference + deleted neighbours + level: 12-18% fewer arcs scanned and
        // nodes settled per query on Philadelphia.
        auto priority = [&](index_t v) {
            added_hops_ = 0;
            const std::int64_t added = process<false>(v);
            std::int64_t removed = 0, removed_hops = 0;
            for (const auto* list : {&out_[v], &in_[v]})
                for (const DynArc& a : *list) {
                    ++removed;
                    removed_hops += a.hops;
                }
            return 1 + 1000 * std::int64_t{level_[v]} + (1000 * added) / std::max<std::int64_t>(1, removed) +
                   (1000 * added_hops_) / std::max<std::int64_t>(1, removed_hops);
        };
        for (index_t v = 0; v < size_; ++v) {
            prio[v] = priority(v);
            queue.push({prio[v], v});
            if ((v & 4095) == 0) report(progress, 0, size_);
        }
        while (!queue.empty()) {
            const auto [p, v] = queue.top();
            queue.pop();
            if (contracted_[v] || p != prio[v]) continue;  // stale entry
            // Lazy update: the priority may have grown since it was queued.
            const std::int64_t fresh = priority(v);
            if (fresh != p) {
                prio[v] = fresh;
                if (!queue.empty() && fresh > queue.top().first) {
                    queue.push({fresh, v});
                    continue;
                }
            }
            contract(v);
            for (index_t x : neighbours_) {
                prio[x] = priority(x);
                queue.push({prio[x], x});
            }
            if ((next_rank_ & 1023) == 0) report(progress, next_rank_, size_);
        }
        return finish(progress);
    }

    // Fixed order: `rank` is a permutation of the split nodes. No priorities, only the witness
    // searches of the contractions themselves.
    Hierarchy build_in_order(const std::vector<index_t>& rank, const ProgressFn& progress) {
        std::vector<index_t> order(static_cast<std::size_t>(size_));
        for (index_t v = 0; v < size_; ++v) order[rank[v]] = v;
        start();
        for (index_t v : order) {
            contract(v);
            if ((next_rank_ & 1023) == 0) report(progress, next_rank_, size_);
        }
        return finish(progress);
    }

private:
    struct DynArc {
        index_t other;
        double w;
        ChUnpack how;
        index_t hops;  // network links the arc stands for
    };

    void start() {
        level_.assign(static_cast<std::size_t>(size_), 0);
        contracted_.assign(static_cast<std::size_t>(size_), 0);
        topo_ = std::make_shared<ChTopology>();
        topo_->num_network_nodes = n_;
        topo_->num_network_links = m_;
        topo_->first_thru_node = ftn_;
        topo_->rank.assign(static_cast<std::size_t>(size_), kInvalidIndex);
        topo_->first.assign(1, 0);
        next_rank_ = 0;
    }

    // Gives v the next rank, finalises its edges (they join v to the remaining, higher-ranked
    // nodes, listed in neighbours_), adds the shortcuts around it and removes it.
    void contract(index_t v) {
        topo_->rank[v] = next_rank_++;
        contracted_[v] = 1;
        neighbours_.clear();
        for (const DynArc& a : out_[v]) add_edge(v, a.other, a.w, a.how, true);
        for (const DynArc& a : in_[v]) add_edge(v, a.other, a.w, a.how, false);
        topo_->first.push_back(static_cast<index_t>(edge_node_.size()));
        process<true>(v);
        remove(v);
        for (index_t x : neighbours_) level_[x] = std::max(level_[x], level_[v] + 1);
    }

    Hierarchy finish(const ProgressFn& progress) {
        topo_->head.resize(edge_node_.size());
        for (std::size_t e = 0; e < edge_node_.size(); ++e) topo_->head[e] = topo_->rank[edge_node_[e]];
        h_.topo = std::move(topo_);
        h_.finalize();
        report(progress, size_, size_);
        return std::move(h_);
    }

    // Records direction `up` (v -> x) or down (x -> v) of edge {v, x}, creating the edge when
    // x is new for v. Every edge of v is created here before any shortcut around v, so that the
    // shortcuts can name their halves.
    void add_edge(index_t v, index_t x, double w, ChUnpack how, bool up) {
        if (edge_stamp_[x] != v) {
            edge_stamp_[x] = v;
            edge_of_[x] = static_cast<index_t>(edge_node_.size());
            edge_node_.push_back(x);
            h_.up.push_back(kInf);
            h_.down.push_back(kInf);
            h_.unpack_up.emplace_back();
            h_.unpack_down.emplace_back();
            neighbours_.push_back(x);
        }
        const index_t e = edge_of_[x];
        (up ? h_.up : h_.down)[e] = w;
        (up ? h_.unpack_up : h_.unpack_down)[e] = how;
    }

    // Shortcuts needed to contract v: counts the ones that would be new arcs (kApply = false) or
    // inserts them all (kApply = true; v's edges must be finalised: the halves of shortcut u -> w
    // are the down direction of edge {v, u} and the up direction of edge {v, w}).
    template <bool kApply>
    std::int64_t process(index_t v) {
        std::int64_t count = 0;
        if (in_[v].empty() || out_[v].empty()) return 0;
        // Copies: applying shortcuts may reallocate the lists of u (never v's, as u, w != v).
        const std::vector<DynArc> ins = in_[v], outs = out_[v];
        cur_limit_ = limit_;
        if (budget_ > 0) {
            const std::size_t scaled = std::max<std::size_t>(4, budget_ / (ins.size() + outs.size()));
            cur_limit_ = static_cast<index_t>(std::min<std::size_t>(static_cast<std::size_t>(limit_), scaled));
        }
        for (const DynArc& in : ins) {
            const index_t u = in.other;
            double max_out = 0;
            if (++target_cur_ == 0) {
                std::fill(target_.begin(), target_.end(), 0u);
                target_cur_ = 1;
            }
            index_t targets = 0;
            for (const DynArc& o : outs)
                if (o.other != u) {
                    max_out = std::max(max_out, o.w);
                    target_[o.other] = target_cur_;
                    ++targets;
                }
            if (targets == 0) continue;  // v's only out-neighbour is u: no shortcut from u
            witness(u, v, in.w + max_out, targets);
            for (const DynArc& o : outs) {
                const index_t w = o.other;
                if (w == u) continue;
                const double c = in.w + o.w;
                if (distance(w) <= c) continue;  // a path avoiding v is no costlier
                if constexpr (kApply) {
                    improve(u, w, c, ChUnpack{edge_of_[u], edge_of_[w]}, in.hops + o.hops);
                } else {
                    bool exists = false;
                    for (const DynArc& a : out_[u]) exists |= a.other == w;
                    count += !exists;
                    if (!exists) added_hops_ += in.hops + o.hops;
                }
            }
        }
        return count;
    }

    void improve(index_t u, index_t w, double c, ChUnpack how, index_t hops) {
        for (DynArc& a : out_[u])
            if (a.other == w) {
                if (c < a.w) {
                    a.w = c;
                    a.how = how;
                    a.hops = hops;
                    for (DynArc& b : in_[w])
                        if (b.other == u) {
                            b.w = c;
                            b.how = how;
                            b.hops = hops;
                        }
                }
                return;
            }
        out_[u].push_back({w, c, how, hops});
        in_[w].push_back({u, c, how, hops});
    }

    void remove(index_t v) {
        auto drop = [v](std::vector<DynArc>& list) {
            list.erase(std::remove_if(list.begin(), list.end(), [v](const DynArc& a) { return a.other == v; }),
                       list.end());
        };
        for (const DynArc& a : out_[v]) drop(in_[a.other]);
        for (const DynArc& a : in_[v]) drop(out_[a.other]);
        std::vector<DynArc>().swap(out_[v]);
        std::vector<DynArc>().swap(in_[v]);
    }

    // Bounded Dijkstra from `source` in the remaining graph, avoiding `avoid`. Tentative costs
    // count as witnesses too: each is the cost of a real path. Stops once the `targets` nodes
    // marked in target_ (the heads of the shortcuts in question) are all settled: their costs are
    // final then, so going on could not drop a shortcut (the hierarchy is the same). Philadelphia's
    // greedy build: 1.25 s -> 1.00 s (the priority simulations gain most); the 300 x 300 grid in
    // dissection order: 7% (most of its searches end at the cost bound or the limit).
    void witness(index_t source, index_t avoid, double bound, index_t targets) {
        if (++cur_ == 0) {
            std::fill(stamp_.begin(), stamp_.end(), 0u);
            cur_ = 1;
        }
        heap_.clear();
        dist_[source] = 0;
        stamp_[source] = cur_;
        heap_.push(0, source);
        index_t settled = 0;
        while (!heap_.empty()) {
            const auto [d, v] = heap_.pop();
            if (d != dist_[v]) continue;  // stale
            if (d > bound || ++settled > cur_limit_) break;
            if (target_[v] == target_cur_ && --targets == 0) break;
            for (const DynArc& a : out_[v]) {
                if (a.other == avoid) continue;
                const double nd = d + a.w;
                if (stamp_[a.other] != cur_ || nd < dist_[a.other]) {
                    stamp_[a.other] = cur_;
                    dist_[a.other] = nd;
                    heap_.push(nd, a.other);
                }
            }
        }
    }
    double distance(index_t v) const { return stamp_[v] == cur_ ? dist_[v] : kInf; }

    index_t n_, m_, ftn_, size_, limit_;
    std::size_t budget_;      // 0: no scaling of the limit by degree
    index_t cur_limit_ = 0;  // the limit around the node being processed
    std::vector<std::vector<DynArc>> out_, in_;
    std::vector<double> dist_;
    std::vector<std::uint32_t> stamp_;
    std::uint32_t cur_ = 0;
    // The radix heap, although searches are small: a binary heap with decrease-key made the build
    // of the 150 x 150 grid in dissection order 13% slower.
    RadixHeap heap_;
    std::vector<std::uint32_t> target_;  // == target_cur_: a node the witness search must settle
    std::uint32_t target_cur_ = 0;
    std::vector<index_t> edge_of_, edge_stamp_;
    std::int64_t added_hops_ = 0;
    // Build state.
    std::vector<int> level_;
    std::vector<char> contracted_;
    std::shared_ptr<ChTopology> topo_;
    Hierarchy h_;
    std::vector<index_t> edge_node_;   // edge -> split node of its higher end (rank unknown yet)
    std::vector<index_t> neighbours_;  // of the node being contracted
    index_t next_rank_ = 0;
};

// ------------------------------------------------------------------------------------------------
// Minimum vertex separator of a connected part between two node sets, by max flow with unit node
// capacities (Dinic; each node v becomes in(v) -> out(v) with capacity 1, each edge two infinite
// arcs out -> in). Local node ids 0..k-1; adjacency in CSR.
class VertexCut {
public:
    // side[i]: 0 source side, 1 sink side, 2 separator. Gives up (returns false, side
    // unspecified) once the flow reaches `limit`: the cut cannot be smaller than that.
    bool solve(index_t k, const std::vector<index_t>& first, const std::vector<index_t>& adj,
               const std::vector<index_t>& sources, const std::vector<index_t>& sinks,
               std::vector<std::uint8_t>& side, index_t limit = kBig) {
        const index_t s = 2 * k, t = 2 * k + 1, nodes = 2 * k + 2;
        arc_to_.clear();
        arc_cap_.clear();
        arc_from_.clear();
        auto add = [&](index_t a, index_t b, index_t cap) {
            arc_from_.push_back(a); arc_to_.push_back(b); arc_cap_.push_back(cap);
            arc_from_.push_back(b); arc_to_.push_back(a); arc_cap_.push_back(0);
        };
        for (index_t i = 0; i < k; ++i) {
            add(2 * i, 2 * i + 1, 1);
            for (index_t a = first[i]; a < first[i + 1]; ++a) add(2 * i + 1, 2 * adj[a], kBig);
        }
        for (index_t i : sources) add(s, 2 * i, kBig);
        for (index_t i : sinks) add(2 * i + 1, t, kBig);
        // CSR of arc ids by tail.
        const index_t m = static_cast<index_t>(arc_to_.size());
        out_first_.assign(static_cast<std::size_t>(nodes) + 1, 0);
        for (index_t e = 0; e < m; ++e) ++out_first_[arc_from_[e] + 1];
        for (index_t v = 0; v < nodes; ++v) out_first_[v + 1] += out_first_[v];
        out_arc_.resize(static_cast<std::size_t>(m));
        {
            std::vector<index_t> cursor(out_first_.begin(), out_first_.end() - 1);
            for (index_t e = 0; e < m; ++e) out_arc_[cursor[arc_from_[e]]++] = e;
        }
        level_.assign(static_cast<std::size_t>(nodes), -1);
        flow_ = 0;
        limit_ = limit;
        while (bfs(s, t, nodes)) {
            blocking_flow(s, t, nodes);
            if (flow_ >= limit_) return false;
        }
        // Residual reachability from s: in(v) reached but out(v) not = v is cut.
        bfs(s, -1, nodes);
        side.assign(static_cast<std::size_t>(k), 1);
        for (index_t i = 0; i < k; ++i)
            if (level_[2 * i] >= 0) side[i] = level_[2 * i + 1] >= 0 ? 0 : 2;
        return true;
    }

private:
    static constexpr index_t kBig = std::numeric_limits<index_t>::max() / 2;

    bool bfs(index_t s, index_t t, index_t nodes) {
        std::fill(level_.begin(), level_.begin() + nodes, -1);
        queue_.clear();
        queue_.push_back(s);
        level_[s] = 0;
        for (std::size_t q = 0; q < queue_.size(); ++q) {
            const index_t v = queue_[q];
            for (index_t a = out_first_[v]; a < out_first_[v + 1]; ++a) {
                const index_t e = out_arc_[a];
                if (arc_cap_[e] > 0 && level_[arc_to_[e]] < 0) {
                    level_[arc_to_[e]] = level_[v] + 1;
                    queue_.push_back(arc_to_[e]);
                }
            }
        }
        return t >= 0 && level_[t] >= 0;
    }

    // Unit augmenting paths along the level graph (every s-t path crosses a capacity-1 arc), by an
    // iterative depth-first search with current-arc pointers.
    void blocking_flow(index_t s, index_t t, index_t nodes) {
        it_.assign(out_first_.begin(), out_first_.begin() + nodes);
        path_.clear();
        index_t v = s;
        for (;;) {
            if (v == t) {
                for (index_t e : path_) {
                    --arc_cap_[e];
                    ++arc_cap_[e ^ 1];
                }
                path_.clear();
                if (++flow_ >= limit_) return;
                v = s;
                continue;
            }
            bool advanced = false;
            for (; it_[v] < out_first_[v + 1]; ++it_[v]) {
                const index_t e = out_arc_[it_[v]];
                if (arc_cap_[e] > 0 && level_[arc_to_[e]] == level_[v] + 1) {
                    path_.push_back(e);
                    v = arc_to_[e];
                    advanced = true;
                    break;
                }
            }
            if (advanced) continue;
            if (v == s) return;
            level_[v] = -1;  // dead end for this phase
            const index_t e = path_.back();
            path_.pop_back();
            v = arc_from_[e];
            ++it_[v];
        }
    }

    std::vector<index_t> arc_from_, arc_to_, arc_cap_, out_first_, out_arc_, level_, queue_, it_, path_;
    index_t flow_ = 0, limit_ = kBig;
};

// Nested dissection order of an undirected graph (CSR), as rank per node. Parts are processed
// from an explicit stack (no recursion depth limit): a part of ranks [lo, lo + size) puts its
// separator on top and the two sides below. The separator of a connected part is a minimum
// vertex cut between the first and the last quarter of its nodes in some order (inertial flow,
// Schild and Sommer 2015): breadth-first order from a pseudo-peripheral node (graph distance),
// and, when node coordinates are given (x, y non-empty), the orders of their projections on four
// directions (horizontal, vertical, both diagonals); the smallest cut wins, then the most
// balanced. Balanced, and small where the graph is thin.
// Parts larger than this try the breadth-first cut only: on a 1000 x 1000 grid the geometric
// cuts of the top parts cost 20x the build time for 2% fewer hierarchy edges, while on road
// networks (Philadelphia: 12% fewer edges, 17% faster queries) they pay off.
constexpr index_t kMaxGeometricPart = index_t{1} << 17;

std::vector<index_t> nested_dissection(index_t n, const std::vector<index_t>& adj_first,
                                       const std::vector<index_t>& adj, const std::vector<double>& x,
                                       const std::vector<double>& y, const ProgressFn& progress) {
    const bool geometric = !x.empty();
    std::vector<index_t> rank(static_cast<std::size_t>(n), kInvalidIndex);
    std::vector<index_t> mark(static_cast<std::size_t>(n), -1), local(static_cast<std::size_t>(n), -1);
    struct Part {
        std::vector<index_t> nodes;
        index_t lo;
    };
    std::vector<Part> stack;
    {
        std::vector<index_t> all(static_cast<std::size_t>(n));
        std::iota(all.begin(), all.end(), 0);
        stack.push_back({std::move(all), 0});
    }
    index_t part_id = 0, ranked = 0;
    std::vector<index_t> queue, loc_first, loc_adj, sources, sinks, order;
    std::vector<double> proj;
    std::vector<std::uint8_t> side, trial;
    VertexCut cut;
    // BFS inside the current part (nodes marked part_id) from `start` into `queue`.
    auto bfs = [&](index_t start) {
        queue.clear();
        queue.push_back(start);
        const index_t stamp = -2 - part_id;  // visited in this BFS
        mark[start] = stamp;
        for (std::size_t qi = 0; qi < queue.size(); ++qi) {
            const index_t v = queue[qi];
            for (index_t a = adj_first[v]; a < adj_first[v + 1]; ++a)
                if (mark[adj[a]] == part_id) {
                    mark[adj[a]] = stamp;
                    queue.push_back(adj[a]);
                }
        }
        for (index_t v : queue) mark[v] = part_id;  // restore the part mark
    };
    auto place = [&](const std::vector<index_t>& nodes, index_t lo) {
        for (std::size_t i = 0; i < nodes.size(); ++i) rank[nodes[i]] = lo + static_cast<index_t>(i);
        ranked += static_cast<index_t>(nodes.size());
    };
    while (!stack.empty()) {
        Part part = std::move(stack.back());
        stack.pop_back();
        const index_t size = static_cast<index_t>(part.nodes.size());
        if (size <= 4) {
            place(part.nodes, part.lo);
            continue;
        }
        ++part_id;
        for (index_t v : part.nodes) mark[v] = part_id;
        bfs(part.nodes[0]);
        if (static_cast<index_t>(queue.size()) < size) {
            // Disconnected: one part per component, side by side.
            std::vector<std::vector<index_t>> comps;
            const index_t done = -1000000000 - part_id;
            for (index_t s : part.nodes) {
                if (mark[s] != part_id) continue;
                bfs(s);
                for (index_t v : queue) mark[v] = done;
                comps.push_back(queue);
            }
            index_t lo = part.lo;
            for (auto& c : comps) {
                const index_t sz = static_cast<index_t>(c.size());
                stack.push_back({std::move(c), lo});
                lo += sz;
            }
            continue;
        }
        bfs(queue.back());  // from a pseudo-peripheral node; queue = BFS order
        for (index_t i = 0; i < size; ++i) local[queue[i]] = i;
        loc_first.assign(static_cast<std::size_t>(size) + 1, 0);
        loc_adj.clear();
        for (index_t i = 0; i < size; ++i) {
            const index_t v = queue[i];
            for (index_t a = adj_first[v]; a < adj_first[v + 1]; ++a)
                if (mark[adj[a]] == part_id) loc_adj.push_back(local[adj[a]]);
            loc_first[i + 1] = static_cast<index_t>(loc_adj.size());
        }
        const index_t quarter = std::max<index_t>(1, size / 4);
        sources.resize(static_cast<std::size_t>(quarter));
        sinks.resize(static_cast<std::size_t>(quarter));
        std::iota(sources.begin(), sources.end(), 0);
        std::iota(sinks.begin(), sinks.end(), size - quarter);
        cut.solve(size, loc_first, loc_adj, sources, sinks, side);
        if (geometric && size <= kMaxGeometricPart) {
            // Try the coordinate orders too; keep the smallest separator, then the most balanced.
            // A flow that reaches the best separator's size is abandoned (it cannot be smaller).
            auto score = [&](const std::vector<std::uint8_t>& sd) {
                index_t na = 0, nb = 0, ns = 0;
                for (std::uint8_t c : sd) (c == 0 ? na : c == 1 ? nb : ns) += 1;
                return std::make_pair(ns, std::abs(na - nb));
            };
            auto best = score(side);
            static constexpr double kDir[4][2] = {{1, 0}, {0, 1}, {0.7071067811865476, 0.7071067811865476},
                                                  {0.7071067811865476, -0.7071067811865476}};
            for (const auto& dir : kDir) {
                order.resize(static_cast<std::size_t>(size));
                std::iota(order.begin(), order.end(), 0);
                proj.resize(static_cast<std::size_t>(size));
                for (index_t i = 0; i < size; ++i) proj[i] = dir[0] * x[queue[i]] + dir[1] * y[queue[i]];
                // ties by BFS position: deterministic
                std::stable_sort(order.begin(), order.end(), [&](index_t p, index_t q) { return proj[p] < proj[q]; });
                std::copy_n(order.begin(), quarter, sources.begin());
                std::copy_n(order.end() - quarter, quarter, sinks.begin());
                if (!cut.solve(size, loc_first, loc_adj, sources, sinks, trial, best.first + 1)) continue;
                const auto sc = score(trial);
                if (sc < best) {
                    best = sc;
                    side.swap(trial);
                }
            }
        }
        std::vector<index_t> a, b, sep;
        for (index_t i = 0; i < size; ++i) (side[i] == 0 ? a : side[i] == 1 ? b : sep).push_back(queue[i]);
        const index_t a_size = static_cast<index_t>(a.size()), b_size = static_cast<index_t>(b.size());
        place(sep, part.lo + a_size + b_size);
        stack.push_back({std::move(a), part.lo});
        stack.push_back({std::move(b), part.lo + a_size});
        if (progress && (part_id & 255) == 0) report(progress, ranked, n);
    }
    return rank;
}

void validate_coordinates(StarView forward, Span<const double> node_x, Span<const double> node_y) {
    const std::size_t nn = forward.first.size() - 1;
    if (node_x.size() != node_y.size() || (!node_x.empty() && node_x.size() != nn))
        throw InputError("node_x", -1,
                         "node_x and node_y must both be empty or have one value per node (" +
                             std::to_string(nn) + ")");
    for (std::size_t i = 0; i < node_x.size(); ++i)
        if (!std::isfinite(node_x[i]) || !std::isfinite(node_y[i]))
            throw InputError("node_x", static_cast<std::int64_t>(i),
                             "coordinates of node " + std::to_string(i) + " are not finite");
}

// The split graph as an undirected simple graph: its edges {a, b}, a < b, sorted, and their CSR.
struct UndirectedSplit {
    std::vector<std::pair<index_t, index_t>> pairs;
    std::vector<index_t> adj_first, adj;
};

UndirectedSplit undirected_split(const std::vector<SplitArc>& arcs, index_t size) {
    UndirectedSplit g;
    auto& pairs = g.pairs;
    pairs.reserve(arcs.size());
    for (const SplitArc& a : arcs) pairs.push_back({std::min(a.tail, a.head), std::max(a.tail, a.head)});
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    g.adj_first.assign(static_cast<std::size_t>(size) + 1, 0);
    g.adj.resize(2 * pairs.size());
    for (const auto& [a, b] : pairs) {
        ++g.adj_first[a + 1];
        ++g.adj_first[b + 1];
    }
    for (index_t v = 0; v < size; ++v) g.adj_first[v + 1] += g.adj_first[v];
    std::vector<index_t> cursor(g.adj_first.begin(), g.adj_first.end() - 1);
    for (const auto& [a, b] : pairs) {
        g.adj[cursor[a]++] = b;
        g.adj[cursor[b]++] = a;
    }
    return g;
}

// Nested dissection rank of every split node (coordinates validated by the caller; a zone's source
// copy sits where the zone is).
std::vector<index_t> dissection_rank(index_t n, index_t first_thru_node, const UndirectedSplit& g,
                                     Span<const double> node_x, Span<const double> node_y,
                                     const ProgressFn& progress) {
    std::vector<double> xs, ys;
    if (!node_x.empty()) {
        xs.assign(node_x.begin(), node_x.end());
        ys.assign(node_y.begin(), node_y.end());
        for (index_t z = 0; z < first_thru_node; ++z) {
            xs.push_back(node_x[z]);
            ys.push_back(node_y[z]);
        }
    }
    return nested_dissection(split_size(n, first_thru_node), g.adj_first, g.adj, xs, ys, progress);
}

}  // namespace

// ------------------------------------------------------------------------------------------------
Hierarchy build_contraction_hierarchy(StarView forward, Span<const double> weight,
                                      index_t first_thru_node, const ChOptions& options,
                                      const ProgressFn& progress) {
    const LinkWeightView check(forward, weight, first_thru_node);  // validates
    (void)check;
    if (options.order != ChOrder::kGreedy && options.order != ChOrder::kDissection)
        throw InputError("order", -1, "unknown contraction order");
    if (options.order == ChOrder::kGreedy) {
        ChBuilder builder(forward, weight, first_thru_node, options);
        return builder.build(progress);
    }
    validate_coordinates(forward, options.node_x, options.node_y);
    std::vector<index_t> rank;
    {
        const index_t n = forward.num_nodes();
        const UndirectedSplit g =
            undirected_split(split_arcs(forward, first_thru_node), split_size(n, first_thru_node));
        const ProgressFn ordering =
            progress ? ProgressFn([&](std::int64_t, std::int64_t total) { return progress(0, total); }) : ProgressFn();
        rank = dissection_rank(n, first_thru_node, g, options.node_x, options.node_y, ordering);
    }
    ChBuilder builder(forward, weight, first_thru_node, options);
    return builder.build_in_order(rank, progress);
}

CustomizableCH::CustomizableCH(StarView forward, index_t first_thru_node, const ProgressFn& progress)
    : CustomizableCH(forward, first_thru_node, {}, {}, progress) {}

CustomizableCH::CustomizableCH(StarView forward, index_t first_thru_node, Span<const double> node_x,
                               Span<const double> node_y, const ProgressFn& progress) {
    validate_inputs(forward, first_thru_node);
    validate_coordinates(forward, node_x, node_y);
    const index_t n = forward.num_nodes();
    const index_t size = split_size(n, first_thru_node);
    const std::vector<SplitArc> arcs = split_arcs(forward, first_thru_node);
    UndirectedSplit g = undirected_split(arcs, size);
    const auto& pairs = g.pairs;
    auto topo = std::make_shared<ChTopology>();
    topo->num_network_nodes = n;
    topo->num_network_links = static_cast<index_t>(forward.link.size());
    topo->first_thru_node = first_thru_node;
    topo->rank = dissection_rank(n, first_thru_node, g, node_x, node_y, progress);
    std::vector<index_t>().swap(g.adj);

    // Chordal completion by elimination in rank order: a node's higher neighbours, minus the
    // lowest of them, join that lowest one's higher neighbours.
    std::vector<std::vector<index_t>> up(static_cast<std::size_t>(size));
    for (const auto& [a, b] : pairs) {
        const index_t ra = topo->rank[a], rb = topo->rank[b];
        up[std::min(ra, rb)].push_back(std::max(ra, rb));
    }
    std::vector<index_t> merged;
    for (index_t r = 0; r < size; ++r) {
        auto& u = up[r];
        std::sort(u.begin(), u.end());
        u.erase(std::unique(u.begin(), u.end()), u.end());
        if (u.size() < 2) continue;
        auto& parent = up[u[0]];
        merged.clear();
        std::sort(parent.begin(), parent.end());
        std::set_union(parent.begin(), parent.end(), u.begin() + 1, u.end(), std::back_inserter(merged));
        parent.swap(merged);
    }
    std::int64_t total = 0;
    for (const auto& u : up) total += static_cast<std::int64_t>(u.size());
    if (total > std::numeric_limits<index_t>::max())
        throw InputError("network", -1,
                         "the customisable hierarchy of this network would have " +
                             std::to_string(total) + " edges, beyond 32-bit edge indices");
    topo->first.assign(static_cast<std::size_t>(size) + 1, 0);
    for (index_t r = 0; r < size; ++r)
        topo->first[r + 1] = topo->first[r] + static_cast<index_t>(up[r].size());
    topo->head.reserve(static_cast<std::size_t>(topo->first[size]));
    for (auto& u : up) {
        topo->head.insert(topo->head.end(), u.begin(), u.end());
        std::vector<index_t>().swap(u);
    }

    auto edge = [&](index_t lo, index_t hi) {  // the edge {lo, hi}, lo < hi; exists by chordality
        const auto b = topo->head.begin() + topo->first[lo], e = topo->head.begin() + topo->first[lo + 1];
        return static_cast<index_t>(std::lower_bound(b, e, hi) - topo->head.begin());
    };
    for (index_t x = 0; x < size; ++x) {
        const std::size_t d = static_cast<std::size_t>(topo->first[x + 1] - topo->first[x]);
        if (d > 1) num_triangles_ += d * (d - 1) / 2;
    }

    link_edge_.assign(forward.link.size(), kInvalidIndex);
    link_up_.assign(forward.link.size(), 0);
    for (const SplitArc& a : arcs) {
        const index_t rt = topo->rank[a.tail], rh = topo->rank[a.head];
        link_edge_[a.link] = edge(std::min(rt, rh), std::max(rt, rh));
        link_up_[a.link] = rt < rh;
    }
    // Elimination tree: the parent of a rank is its lowest higher neighbour (head lists are sorted).
    topo->parent.assign(static_cast<std::size_t>(size), kInvalidIndex);
    for (index_t r = 0; r < size; ++r)
        if (topo->first[r] < topo->first[r + 1]) topo->parent[r] = topo->head[topo->first[r]];
    topo_ = std::move(topo);
    report(progress, size, size);
}

Hierarchy CustomizableCH::customize(Span<const double> weight) const {
    validate_weight(weight, link_edge_.size());
    Hierarchy h;
    h.topo = topo_;
    const std::size_t m = topo_->head.size();
    h.up.assign(m, kInf);
    h.down.assign(m, kInf);
    h.unpack_up.assign(m, ChUnpack{});
    h.unpack_down.assign(m, ChUnpack{});
    for (std::size_t l = 0; l < link_edge_.size(); ++l) {
        const index_t e = link_edge_[l];
        if (e < 0) continue;
        auto& w = link_up_[l] ? h.up[e] : h.down[e];
        if (weight[l] < w) {  // strict: the first of equal parallel links, deterministically
            w = weight[l];
            (link_up_[l] ? h.unpack_up[e] : h.unpack_down[e]) = ChUnpack{static_cast<index_t>(l), kInvalidIndex};
        }
    }
    // Lower triangles bottom-up: when x is processed, edges {x, .} are final (their own lower
    // triangles have lower middles). u -> w through x is u -> x (down of {x,u}) + x -> w (up of
    // {x,w}); w -> u is w -> x (down of {x,w}) + x -> u (up of {x,u}).
    double* up = h.up.data();
    double* down = h.down.data();
    auto relax = [&](index_t xu, index_t xw, index_t uw) {
        const double via_up = down[xu] + up[xw];
        if (via_up < up[uw]) {
            up[uw] = via_up;
            h.unpack_up[uw] = ChUnpack{xu, xw};
        }
        const double via_down = down[xw] + up[xu];
        if (via_down < down[uw]) {
            down[uw] = via_down;
            h.unpack_down[uw] = ChUnpack{xw, xu};
        }
    };
    // Triangle {x, u, w} for every pair u < w of higher neighbours of x, x in increasing rank;
    // {u, w} is found by merging, as the higher neighbours of x after u (sorted) all appear among
    // the higher neighbours of u (sorted), by chordality.
    const ChTopology& t = *topo_;
    for (index_t x = 0; x < t.num_ranks(); ++x)
        for (index_t i = t.first[x]; i < t.first[x + 1]; ++i) {
            const index_t u = t.head[i];
            index_t p = t.first[u];
            for (index_t j = i + 1; j < t.first[x + 1]; ++j) {
                while (t.head[p] < t.head[j]) ++p;
                relax(i, j, p);
            }
        }
    h.finalize();
    return h;
}

// ------------------------------------------------------------------------------------------------
void Hierarchy::finalize() {
    const ChTopology& t = *topo;
    const index_t ranks = t.num_ranks();
    const auto finite = [](const std::vector<double>& w) {
        return static_cast<std::size_t>(std::count_if(w.begin(), w.end(), [](double x) { return x != kInf; }));
    };
    arc_first.resize(2 * static_cast<std::size_t>(ranks) + 1);
    arcs.resize(finite(up) + finite(down));
    ChArc* out = arcs.data();
    arc_first[0] = 0;
    for (index_t v = 0; v < ranks; ++v) {
        for (int dir = 0; dir < 2; ++dir) {
            const std::vector<double>& w = dir == 0 ? up : down;
            for (index_t e = t.first[v]; e < t.first[v + 1]; ++e)
                if (w[e] != kInf) *out++ = ChArc{w[e], t.head[e], e};
            arc_first[2 * static_cast<std::size_t>(v) + 1 + dir] = static_cast<index_t>(out - arcs.data());
        }
    }
}

void ChQuery::Side::resize(index_t n) {
    dist.assign(static_cast<std::size_t>(n), kInf);
    pred.assign(static_cast<std::size_t>(n), kInvalidIndex);
    touched.clear();
    queue.resize(n);
}

void ChQuery::Side::reset() {
    queue.clear(touched);
    for (index_t v : touched) dist[v] = kInf;
    touched.clear();
}

void ChQuery::resize(index_t num_ranks) {
    fwd_.resize(num_ranks);
    bwd_.resize(num_ranks);
}

namespace {

// Stall-on-demand: v (cost d) is stalled when a higher neighbour x already reached proves its cost
// not shortest: cost(x) + back(x -> v) < d. `back` is the graph of the opposite direction. The
// test of every arc is evaluated (no early exit): branch-free, and the lists are short.
bool stalled(const ChSearchGraph& back, const double* dist, index_t v, double d) {
    const ChArc* a = back.begin(v);
    const ChArc* end = back.end(v);
    bool stall = false;
    for (; a != end; ++a) stall |= dist[a->head] + a->weight < d;
    return stall;
}

// Relaxes the arcs of v (cost d) in `go`; a node reached for the first time is queued when
// `queue` is given (searches in rank order; the elimination-tree walks need no queue). Every arc
// leads to a higher rank, not yet popped, so no final cost is ever lowered.
// Inlined by force: GCC kept it out of line (p2p on Philadelphia 9.85 -> 9.41 us a query inlined).
// A branch-free version (unconditional stores, touched list and queue bits or-ed by condition)
// was slower, 10.65 us: most arcs reach a new node, a well-predicted branch.
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void relax(const ChSearchGraph& go, double* dist, index_t* pred, std::vector<index_t>& touched,
                  index_t v, double d, RankQueue* queue) {
    const ChArc* a = go.begin(v);
    const ChArc* end = go.end(v);
    for (; a != end; ++a) {
        const double nd = d + a->weight;
        const index_t x = a->head;
        const double cur = dist[x];
        if (nd < cur) {
            dist[x] = nd;
            pred[x] = a->edge;
            if (cur == kInf) {
                touched.push_back(x);
                if (queue) queue->push(x);
            }
        }
    }
}

}  // namespace

// Classic CH query: both upward searches in rank order (see RankQueue), the forward one complete,
// then the backward one, which meets it at every node it pops (both costs are final then) and
// stops relaxing from nodes that already cost at least the best path (costs only grow upwards).
// Stall-on-demand as in upward_search; stalled nodes still close paths (their cost is a real
// path's). Philadelphia, 20,000 random queries on one thread: 9.7 us a query against 10.4 for
// the bidirectional Dijkstra with a binary heap and decrease-key that this replaced (same
// costs); interleaving the two directions to prune earlier was no faster (9.8): the searches run
// almost to completion either way (~140 nodes settled against ~150 for two complete searches).
double ChQuery::rank_query(const Hierarchy& h, index_t s, index_t t, index_t& meet) {
    const ChSearchGraph up = h.upward(), down = h.downward();
    double* F = fwd_.dist.data();
    double* B = bwd_.dist.data();
    fwd_.start(s);
    fwd_.queue.push(s);
    while (!fwd_.queue.empty()) {
        const index_t x = fwd_.queue.pop();
        const double d = F[x];
        if (!stalled(down, F, x, d)) relax(up, F, fwd_.pred.data(), fwd_.touched, x, d, &fwd_.queue);
    }
    double best = kInf;
    bwd_.start(t);
    bwd_.queue.push(t);
    while (!bwd_.queue.empty()) {
        const index_t x = bwd_.queue.pop();
        const double d = B[x];
        if (d + F[x] < best) {
            best = d + F[x];
            meet = x;
        }
        if (d < best && !stalled(up, B, x, d))
            relax(down, B, bwd_.pred.data(), bwd_.touched, x, d, &bwd_.queue);
    }
    return best;
}

// Customisable CH: the upward search space of a node is its elimination-tree ancestors, so both
// searches walk up their tree paths, always advancing the lower-ranked one, which settles nodes in
// an order where every node comes after all its lower neighbours on the path (no queue needed).
// Once the walks meet, the remaining ancestors are common: each is a candidate meeting node, and
// a direction stops relaxing from nodes that already cost at least the best path (pruning).
double ChQuery::tree_query(const Hierarchy& h, index_t s, index_t t, index_t& meet) {
    const index_t* parent = h.topo->parent.data();
    fwd_.start(s);
    bwd_.start(t);
    double* F = fwd_.dist.data();
    double* B = bwd_.dist.data();
    index_t x = s, y = t;
    // Roots have parent -1; as an unsigned number -1 is the largest, so a walk that reached its
    // root waits for the other one.
    while (x != y) {
        if (static_cast<std::uint32_t>(x) < static_cast<std::uint32_t>(y)) {
            const double d = F[x];
            if (d != kInf && !stalled(h.downward(), F, x, d))
                relax(h.upward(), F, fwd_.pred.data(), fwd_.touched, x, d, nullptr);
            x = parent[x];
        } else {
            const double d = B[y];
            if (d != kInf && !stalled(h.upward(), B, y, d))
                relax(h.downward(), B, bwd_.pred.data(), bwd_.touched, y, d, nullptr);
            y = parent[y];
        }
    }
    double best = kInf;
    for (; x != kInvalidIndex; x = parent[x]) {
        const double f = F[x], b = B[x];
        if (f + b < best) {
            best = f + b;
            meet = x;
        }
        if (f < best) relax(h.upward(), F, fwd_.pred.data(), fwd_.touched, x, f, nullptr);
        if (b < best) relax(h.downward(), B, bwd_.pred.data(), bwd_.touched, x, b, nullptr);
    }
    return best;
}

double ChQuery::shortest_path(const Hierarchy& h, index_t origin, index_t destination,
                              std::vector<index_t>* links) {
    if (origin == destination) return 0.0;
    const ChTopology& t = *h.topo;
    const index_t s = t.source_rank(origin), d = t.target_rank(destination);
    index_t meet = kInvalidIndex;
    const double best = t.parent.empty() ? rank_query(h, s, d, meet) : tree_query(h, s, d, meet);
    if (links && meet != kInvalidIndex) {
        // Climb from the meeting node back down both searches, then unpack each edge.
        climb_.clear();
        for (index_t v = meet; v != s;) {
            const index_t e = fwd_.pred[v];
            climb_.push_back(e);
            v = t.lower(e);
        }
        for (auto it = climb_.rbegin(); it != climb_.rend(); ++it) unpack(h, *it, true, *links);
        for (index_t v = meet; v != d;) {
            const index_t e = bwd_.pred[v];
            unpack(h, e, false, *links);
            v = t.lower(e);
        }
    }
    fwd_.reset();
    bwd_.reset();
    return best;
}

void ChQuery::unpack(const Hierarchy& h, index_t edge, bool up, std::vector<index_t>& links) {
    stack_.clear();
    stack_.push_back({edge, up});
    while (!stack_.empty()) {
        const auto [e, dir] = stack_.back();
        stack_.pop_back();
        const ChUnpack& u = dir ? h.unpack_up[e] : h.unpack_down[e];
        if (u.second == kInvalidIndex) {
            links.push_back(u.first);
        } else {
            stack_.push_back({u.second, true});   // second half: up direction
            stack_.push_back({u.first, false});   // first half, expanded first: down direction
        }
    }
}

bool ChQuery::phast_tree(const Hierarchy& h, index_t origin, const RoutingGraph& graph, Span<double> dist,
                         Span<index_t> pred_link) {
    const ChTopology& t = *h.topo;
    const index_t ranks = t.num_ranks(), n = t.num_network_nodes;
    sweep_.assign(static_cast<std::size_t>(ranks), kInf);
    // Upward part: labels are upper bounds (stalled nodes' too); the sweep makes them exact.
    {
        const index_t start = t.source_rank(origin);
        Side& side = fwd_;
        double* d = side.dist.data();
        side.start(start);
        if (!t.parent.empty()) {
            for (index_t x = start; x != kInvalidIndex; x = t.parent[x])
                if (d[x] != kInf && !stalled(h.downward(), d, x, d[x]))
                    relax(h.upward(), d, side.pred.data(), side.touched, x, d[x], nullptr);
        } else {
            side.queue.push(start);
            while (!side.queue.empty()) {
                const index_t x = side.queue.pop();
                if (!stalled(h.downward(), d, x, d[x]))
                    relax(h.upward(), d, side.pred.data(), side.touched, x, d[x], &side.queue);
            }
        }
        for (index_t x : side.touched) sweep_[x] = d[x];
        side.reset();
    }
    // Downward sweep: node v takes the cheapest of its down arcs from higher (final) nodes.
    double* sd = sweep_.data();
    const ChSearchGraph down = h.downward();
    for (index_t v = ranks - 1; v >= 0; --v) {
        double best = sd[v];
        for (const ChArc* a = down.begin(v), *end = down.end(v); a != end; ++a)
            best = std::min(best, sd[a->head] + a->weight);
        sd[v] = best;
    }
    // Predecessors: breadth-first over tight links in the graph's internal order (a node's links
    // are contiguous with their costs; zones keep their ids there, so the zones rule is id <
    // first_thru_node), then both outputs are scattered to network order.
    const index_t o = graph.to_internal(origin);
    tree_dist_.resize(static_cast<std::size_t>(n));
    tree_pred_.assign(static_cast<std::size_t>(n), kInvalidIndex);
    double* di = tree_dist_.data();
    index_t* pi = tree_pred_.data();
    std::size_t reached = 0;
    for (index_t u = 0; u < n; ++u) {
        di[u] = sd[t.target_rank(graph.to_external(u))];
        reached += di[u] != kInf;
    }
    if (di[o] == kInf) ++reached;
    di[o] = 0.0;  // a zone origin: its sink may be reachable through others, at a cost
    queue_.clear();
    queue_.push_back(o);
    for (std::size_t qi = 0; qi < queue_.size(); ++qi) {
        const index_t u = queue_[qi];
        if (u < t.first_thru_node && u != o) continue;
        const double du = di[u];
        for (index_t e = graph.begin(u), end = graph.end(u); e < end; ++e) {
            const index_t w = graph.head(e);
            const double dw = di[w];
            if (pi[w] == kInvalidIndex && w != o && du + graph.cost(e) <= dw + 1e-12 * dw) {
                pi[w] = e;
                queue_.push_back(w);
            }
        }
    }
    for (index_t u = 0; u < n; ++u) {
        const index_t v = graph.to_external(u);
        dist[v] = di[u];
        pred_link[v] = pi[u] == kInvalidIndex ? kInvalidIndex : graph.link(pi[u]);
    }
    const std::size_t found = queue_.size();
    return found == reached;
}

void ChQuery::upward_search(const Hierarchy& h, index_t v, bool forward,
                            std::vector<std::pair<index_t, double>>& space) {
    const ChTopology& t = *h.topo;
    const index_t start = forward ? t.source_rank(v) : t.target_rank(v);
    Side& side = fwd_;
    double* dist = side.dist.data();
    side.start(start);
    const ChSearchGraph go = forward ? h.upward() : h.downward();
    const ChSearchGraph back = forward ? h.downward() : h.upward();
    if (!t.parent.empty()) {
        for (index_t x = start; x != kInvalidIndex; x = t.parent[x]) {
            const double d = dist[x];
            if (d == kInf || stalled(back, dist, x, d)) continue;
            space.push_back({x, d});
            relax(go, dist, side.pred.data(), side.touched, x, d, nullptr);
        }
    } else {
        side.queue.push(start);
        while (!side.queue.empty()) {
            const index_t x = side.queue.pop();
            const double d = dist[x];
            if (stalled(back, dist, x, d)) continue;
            space.push_back({x, d});
            relax(go, dist, side.pred.data(), side.touched, x, d, &side.queue);
        }
    }
    side.reset();
}

// ------------------------------------------------------------------------------------------------
namespace {

void validate_hierarchy(const Hierarchy& h) {
    if (!h.topo) throw InputError("hierarchy", -1, "empty hierarchy");
}

}  // namespace

namespace {

// The dense buckets an origin's search reached, combined: row[j] = min over k of (d[k] +
// col[k][j]) for j < n, written over row (no initial value). Register-blocked: a block of kBlock
// targets stays in registers while every reached row is added in, so each step is one load, one
// add and one min per element, where scanning one dense row at a time through the output row
// also loads and stores the output per element and row (Philadelphia, 1000 x 1000, one thread:
// the origins' phase 13.4 -> 11.0 ms, of which ~5 ms searches). Compiled twice where the
// compiler can pick the instruction set at run time (AVX2: four doubles per instruction; the
// baseline, SSE2, two), since wheels must run on any x86-64.
constexpr std::size_t kBlock = 16;
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
void min_plus_rows(double* __restrict row, const double* const* __restrict cols, const double* __restrict d,
                   std::size_t rows, std::size_t n) {
    std::size_t j = 0;
#if defined(__GNUC__)
    // GCC/Clang vector types: the compiler does not keep a plain array of accumulators in
    // registers across the loop over rows (it spilled them, scalar); four vectors of four doubles
    // it does (two SSE registers each on the baseline).
    typedef double v4 __attribute__((vector_size(32)));
    const v4 inf = {kInf, kInf, kInf, kInf};
    for (; j + kBlock <= n; j += kBlock) {
        v4 a0 = inf, a1 = inf, a2 = inf, a3 = inf;
        for (std::size_t k = 0; k < rows; ++k) {
            const double* c = cols[k] + j;
            const v4 dk = {d[k], d[k], d[k], d[k]};
            v4 c0, c1, c2, c3;
            std::memcpy(&c0, c, sizeof c0);
            std::memcpy(&c1, c + 4, sizeof c1);
            std::memcpy(&c2, c + 8, sizeof c2);
            std::memcpy(&c3, c + 12, sizeof c3);
            c0 += dk;
            c1 += dk;
            c2 += dk;
            c3 += dk;
            a0 = c0 < a0 ? c0 : a0;
            a1 = c1 < a1 ? c1 : a1;
            a2 = c2 < a2 ? c2 : a2;
            a3 = c3 < a3 ? c3 : a3;
        }
        std::memcpy(row + j, &a0, sizeof a0);
        std::memcpy(row + j + 4, &a1, sizeof a1);
        std::memcpy(row + j + 8, &a2, sizeof a2);
        std::memcpy(row + j + 12, &a3, sizeof a3);
    }
#endif
    for (; j < n; ++j) {
        double a = kInf;
        for (std::size_t k = 0; k < rows; ++k) {
            const double x = d[k] + cols[k][j];
            a = x < a ? x : a;
        }
        row[j] = a;
    }
}

}  // namespace

// The bucket method. Buckets are stored by node, in rank order. A node's bucket holds one entry
// per target whose backward search reached it; the nodes near the top of the hierarchy are
// reached by most targets, and the forward searches of most origins reach them too, so most of
// the scanning happens there: those buckets are stored as dense rows (one cost per target, inf
// where absent) and scanned by a vectorised min-plus loop instead of entry by entry.
void distance_matrix(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> targets,
                     Span<double> out, int threads, const ProgressFn& progress, ChPool* pool) {
    validate_hierarchy(h);
    const ChTopology& t = *h.topo;
    const index_t n = t.num_network_nodes;
    validate_nodes(origins, n, "origins");
    validate_nodes(targets, n, "targets");
    const std::size_t no = origins.size(), nt = targets.size();
    if (out.size() != no * nt)
        throw InputError("out", -1, "out: expected length " + std::to_string(no * nt));
    if (no == 0 || nt == 0) return;
    const std::int64_t total = static_cast<std::int64_t>(no + nt);
    const index_t ranks = t.num_ranks();
    // Workers of the targets' phase and of the origins' phase; worker k of both uses workspace k.
    const int target_threads = resolve_threads(threads, static_cast<std::int64_t>(nt));
    const int nthreads = resolve_threads(threads, static_cast<std::int64_t>(no));
    WorkerSpaces<ChPool> ws(pool, std::max(target_threads, nthreads), ranks);

    // Phase 1: one backward upward search per target, in parallel, appended to its worker's list
    // (a vector per target: 1000 small growing vectors made the phase scale 1.3x on 2 threads).
    OrderedConcat<std::pair<index_t, double>> spaces(nt, target_threads);
    parallel_for(static_cast<std::int64_t>(nt), target_threads,
                 progress ? ProgressFn([&](std::int64_t d, std::int64_t) { return progress(d, total); })
                          : ProgressFn(),
                 [&](int worker, std::int64_t j) {
                     const std::size_t jj = static_cast<std::size_t>(j);
                     ws.get(worker).upward_search(h, targets[jj], false, spaces.begin(jj, worker));
                     spaces.end(jj);
                 });
    // Phase 2: buckets by node, filled in target order (deterministic). Nodes reached by at least
    // a sixteenth of the targets get dense rows, densest first, within kDenseBudget bytes: on
    // Philadelphia (1000 x 1000) 1/16 was fastest (1/4: +15%, 1/2: +55%, all sparse: +100%).
    constexpr std::int64_t kDenseDivisor = 16;
    constexpr std::size_t kDenseBudget = std::size_t{64} << 20;
    std::vector<std::int64_t> count(static_cast<std::size_t>(ranks), 0);
    for (std::size_t j = 0; j < nt; ++j)
        for (const auto& [v, d] : spaces.item(j)) ++count[v];
    std::vector<index_t> dense_of(static_cast<std::size_t>(ranks), kInvalidIndex);
    index_t num_dense = 0;
    if (nt >= 8) {
        std::vector<index_t> candidates;
        for (index_t v = 0; v < ranks; ++v)
            if (count[v] * kDenseDivisor >= static_cast<std::int64_t>(nt)) candidates.push_back(v);
        std::stable_sort(candidates.begin(), candidates.end(),
                         [&](index_t a, index_t b) { return count[a] > count[b]; });
        const std::size_t max_dense = std::max<std::size_t>(1, kDenseBudget / (nt * sizeof(double)));
        if (candidates.size() > max_dense) candidates.resize(max_dense);
        std::sort(candidates.begin(), candidates.end());  // rows in rank order
        for (index_t v : candidates) dense_of[v] = num_dense++;
    }
    std::vector<std::int64_t> bucket_first(static_cast<std::size_t>(ranks) + 1, 0);
    for (index_t v = 0; v < ranks; ++v)
        bucket_first[v + 1] = bucket_first[v] + (dense_of[v] == kInvalidIndex ? count[v] : 0);
    std::vector<index_t> bucket_target(static_cast<std::size_t>(bucket_first[ranks]));
    std::vector<double> bucket_dist(bucket_target.size());
    std::vector<double> dense(static_cast<std::size_t>(num_dense) * nt, kInf);
    {
        std::vector<std::int64_t> cursor(bucket_first.begin(), bucket_first.end() - 1);
        for (std::size_t j = 0; j < nt; ++j) {
            for (const auto& [v, d] : spaces.item(j)) {
                const index_t k = dense_of[v];
                if (k != kInvalidIndex) {
                    dense[static_cast<std::size_t>(k) * nt + j] = d;
                } else {
                    const std::int64_t c = cursor[v]++;
                    bucket_target[c] = static_cast<index_t>(j);
                    bucket_dist[c] = d;
                }
            }
        }
    }

    // Phase 3: one forward upward search per origin, in parallel, scans the buckets of the nodes
    // it reaches into its own row of the output. (Scanning the dense rows a block of targets at a
    // time for chunks of origins, to keep the blocks in cache, measured no faster: the scan is
    // bound by instructions, not memory.)
    struct Scratch {
        std::vector<std::pair<index_t, double>> space;  // the forward search space
        std::vector<const double*> cols;                // its dense rows
        std::vector<double> cost;                       // and their costs
    };
    std::vector<Scratch> scratch(static_cast<std::size_t>(nthreads));
    parallel_for(static_cast<std::int64_t>(no), nthreads,
                 progress ? ProgressFn([&](std::int64_t d, std::int64_t) {
                     return progress(static_cast<std::int64_t>(nt) + d, total);
                 })
                          : ProgressFn(),
                 [&](int worker, std::int64_t i) {
                     ChQuery& q = ws.get(worker);
                     Scratch& sc = scratch[static_cast<std::size_t>(worker)];
                     sc.space.clear();
                     sc.cols.clear();
                     sc.cost.clear();
                     const index_t o = origins[static_cast<std::size_t>(i)];
                     q.upward_search(h, o, true, sc.space);
                     for (const auto& [v, ds] : sc.space) {
                         const index_t k = dense_of[v];
                         if (k == kInvalidIndex) continue;
                         sc.cols.push_back(dense.data() + static_cast<std::size_t>(k) * nt);
                         sc.cost.push_back(ds);
                     }
                     double* row = out.data() + static_cast<std::size_t>(i) * nt;
                     min_plus_rows(row, sc.cols.data(), sc.cost.data(), sc.cols.size(), nt);
                     for (const auto& [v, ds] : sc.space) {
                         if (dense_of[v] != kInvalidIndex) continue;
                         for (std::int64_t b = bucket_first[v]; b < bucket_first[v + 1]; ++b) {
                             const double c = ds + bucket_dist[b];
                             double& r = row[bucket_target[b]];
                             if (c < r) r = c;
                         }
                     }
                     // A zone's source copy and its sink are different nodes: o -> o is 0 anyway.
                     if (o < t.first_thru_node)
                         for (std::size_t j = 0; j < nt; ++j)
                             if (targets[j] == o) row[j] = 0.0;
                 });
}

bool phast_tree(const Hierarchy& h, ChQuery& q, index_t origin, const RoutingGraph& graph,
                Span<double> dist, Span<index_t> pred_link) {
    validate_hierarchy(h);
    const index_t n = h.topo->num_network_nodes;
    validate_nodes(Span<const index_t>(&origin, 1), n, "origin");
    if (graph.num_nodes() != n || graph.num_links() != h.topo->num_network_links ||
        graph.first_thru_node() != h.topo->first_thru_node)
        throw InputError("graph", -1, "the routing graph is not the hierarchy's network");
    if (dist.size() != static_cast<std::size_t>(n) || pred_link.size() != static_cast<std::size_t>(n))
        throw InputError("dist", -1, "dist and pred_link must have one entry per node");
    if (q.num_nodes() != h.topo->num_ranks()) q.resize(h.topo->num_ranks());
    return q.phast_tree(h, origin, graph, dist, pred_link);
}

namespace {

// Pair queries answered one by one, by bidirectional searches: a query is a work item (see
// answer_paths).
class OneByOne {
public:
    OneByOne(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> dests, int threads, ChPool* pool)
        : h_(h), origins_(origins), dests_(dests), workers_(resolve_threads(threads, items())),
          ws_(pool, workers_, h.topo->num_ranks()) {}

    std::int64_t items() const { return static_cast<std::int64_t>(origins_.size()); }
    int workers() const { return workers_; }

    void operator()(int worker, std::int64_t item, Span<double> cost, OrderedConcat<index_t>* paths) {
        const std::size_t i = static_cast<std::size_t>(item);
        ChQuery& q = ws_.get(worker);
        cost[i] = q.shortest_path(h_, origins_[i], dests_[i], paths ? &paths->begin(i, worker) : nullptr);
        if (paths) paths->end(i);
    }

private:
    const Hierarchy& h_;
    Span<const index_t> origins_, dests_;
    int workers_;
    WorkerSpaces<ChPool> ws_;
};

}  // namespace

PathBatch shortest_paths(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> dests,
                         int threads, const ProgressFn& progress, ChPool* pool) {
    validate_hierarchy(h);
    validate_pairs(origins, dests, h.topo->num_network_nodes);
    OneByOne batch(h, origins, dests, threads, pool);
    return answer_paths(origins.size(), batch, progress);
}

void shortest_path_costs(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> dests,
                         Span<double> out, int threads, const ProgressFn& progress, ChPool* pool) {
    validate_hierarchy(h);
    validate_pairs(origins, dests, h.topo->num_network_nodes);
    const std::size_t nq = origins.size();
    if (out.size() != nq) throw InputError("out", -1, "out: expected length " + std::to_string(nq));
    OneByOne batch(h, origins, dests, threads, pool);
    answer_costs(out, batch, progress);
}

}  // namespace smartcore
