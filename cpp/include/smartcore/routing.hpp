// Shortest paths on the network's forward star: one-to-all trees (optionally stopped at targets
// or at a cost radius), batched point-to-point paths and many-to-many distance matrices by
// Dijkstra's algorithm.
//
// Graphs the searches run on (both expose the same accessors, see DijkstraQuery::run):
//   * LinkWeightView - zero-copy view of the network's forward star plus one weight per link;
//     nothing is built, so it suits one-off queries.
//   * RoutingGraph   - an immutable index built once per weight: nodes renumbered for memory
//     locality, costs stored in star order (no indirection through the link index). It is what
//     repeated and batched queries should use.
//
// Zones rule (TNTP <FIRST THRU NODE>): nodes with index < first_thru_node are never passed
// through: a search settles them but expands them only when they are its origin. Both graph
// types keep such nodes at their own indices, so the rule is one comparison per settled node.
//
// Costs are in the unit of the weight array. Weights must be finite and >= 0 (Dijkstra's
// precondition); zero-cost links and zero-cost cycles are fine.
//
// Thread-safety: graphs are immutable after construction and may be shared by any number of
// threads. A DijkstraQuery is a mutable workspace: one per thread. The batched functions take a
// thread count, give each thread its own workspace (from an optional WorkspacePool, so repeated
// calls reuse memory) and write every result to its own slot, so outputs do not depend on the
// number of threads or on scheduling.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "smartcore/common.hpp"
#include "smartcore/graph.hpp"

namespace smartcore {

// Throws InputError("weight", link, ...) unless weight has num_links entries, all finite, >= 0.
void validate_weight(Span<const double> weight, std::size_t num_links);

// Throws InputError(field, i, ...) unless every ids[i] lies in [0, num_nodes).
void validate_nodes(Span<const index_t> ids, index_t num_nodes, const char* field);

// Query pairs (origins[i], dests[i]): same length ("destinations"), every id in range.
void validate_pairs(Span<const index_t> origins, Span<const index_t> dests, index_t num_nodes);

// The node whose star holds `edge` (binary search: used to walk paths back, not in searches).
index_t tail_of(Span<const index_t> first, index_t edge);

// Zero-copy graph: the caller's forward star and per-link weights (which must outlive the view).
// Internal node ids equal the network's dense ids.
class LinkWeightView {
public:
    // Validates the weights (InputError "weight") and first_thru_node.
    LinkWeightView(StarView forward, Span<const double> weight, index_t first_thru_node);

    index_t num_nodes() const { return fs_.num_nodes(); }
    index_t first_thru_node() const { return first_thru_node_; }
    index_t begin(index_t v) const { return fs_.first[v]; }
    index_t end(index_t v) const { return fs_.first[v + 1]; }
    index_t head(index_t edge) const { return fs_.other[edge]; }
    double cost(index_t edge) const { return weight_[fs_.link[edge]]; }
    index_t link(index_t edge) const { return fs_.link[edge]; }
    index_t tail(index_t edge) const { return tail_of(fs_.first, edge); }
    index_t to_internal(index_t v) const { return v; }
    index_t to_external(index_t v) const { return v; }

private:
    StarView fs_;
    Span<const double> weight_;
    index_t first_thru_node_;
};

// Owning, immutable routing index (see the file comment). Edges ("edge" = position in the
// internal star) map back to the network's link indices through link().
class RoutingGraph {
public:
    enum class Order {
        kInput,     // keep the network's node order
        kLocality,  // breadth-first order over the undirected graph (neighbours get close ids),
                    // unless the input order is at least as local already
    };

    RoutingGraph() = default;
    // Validates the star, the weights (InputError "weight") and first_thru_node; copies.
    RoutingGraph(StarView forward, Span<const double> weight, index_t first_thru_node,
                 Order order = Order::kLocality);

    // Same topology and node order, new weights (validated): O(num_links), no reordering.
    RoutingGraph with_weight(Span<const double> weight) const;

    index_t num_nodes() const { return static_cast<index_t>(first_.size()) - 1; }
    index_t num_links() const { return static_cast<index_t>(head_.size()); }
    index_t first_thru_node() const { return first_thru_node_; }
    index_t begin(index_t v) const { return first_[v]; }
    index_t end(index_t v) const { return first_[v + 1]; }
    index_t head(index_t edge) const { return head_[edge]; }
    double cost(index_t edge) const { return cost_[edge]; }
    index_t link(index_t edge) const { return link_[edge]; }
    index_t tail(index_t edge) const { return tail_of(first_, edge); }
    index_t to_internal(index_t v) const { return internal_[v]; }
    index_t to_external(index_t v) const { return external_[v]; }

private:
    // Separate arrays rather than one {cost, head, link} record per edge: measured faster on a
    // 1M-node grid (the head loads, which the label loads depend on, are denser).
    index_t first_thru_node_ = 0;
    std::vector<index_t> first_{0};  // internal star offsets (num_nodes + 1)
    std::vector<index_t> head_;      // internal head of each edge
    std::vector<index_t> link_;      // network link index of each edge
    std::vector<double> cost_;       // weight of each edge
    std::vector<index_t> internal_;  // network node -> internal node
    std::vector<index_t> external_;  // internal node -> network node
};

// Monotone priority queue for non-negative double keys (a radix heap, Ahuja, Mehlhorn, Orlin and
// Tarjan 1990), used lazily: Dijkstra pushes a node again when its cost improves and skips stale
// entries on pop. Dijkstra's keys never decrease below the last popped key, which is all a radix
// heap needs; the bit patterns of non-negative doubles sort like the doubles, so they serve as the
// integer keys. Pushing is O(1); an entry moves to a lower bucket at most 64 times. Measured
// against a 4-ary heap with decrease-key through a position index: 1.5x faster one-to-all trees
// on Philadelphia (13k nodes), 1.3x on a 1M-node grid.
class RadixHeap {
public:
    struct Entry {
        std::uint64_t key;
        index_t node;
    };
    bool empty() const { return size_ == 0; }
    void clear();
    // key must be >= the last popped key (monotonicity).
    void push(double key, index_t node) {
        put({bits(key), node});
        ++size_;
    }
    // Removes an entry of minimum key; returns (key, node).
    std::pair<double, index_t> pop() {
        if (buckets_[0].empty()) refill();
        const Entry e = buckets_[0].back();
        buckets_[0].pop_back();
        --size_;
        return {value(e.key), e.node};
    }
    // The minimum key (the heap must not be empty).
    double min_key() {
        if (buckets_[0].empty()) refill();
        return value(last_);
    }

private:
    void refill();
    static std::uint64_t bits(double d) {
        std::uint64_t u;
        std::memcpy(&u, &d, sizeof u);
        return u;
    }
    static double value(std::uint64_t k) {
        double d;
        std::memcpy(&d, &k, sizeof d);
        return d;
    }
    int bucket(std::uint64_t k) const { return k == last_ ? 0 : 64 - __builtin_clzll(k ^ last_); }
    void put(Entry e) {
        const int b = bucket(e.key);
        buckets_[b].push_back(e);
        if (b > 0) occupied_ |= std::uint64_t{1} << (b - 1);
    }
    std::vector<Entry> buckets_[65];  // bucket i: keys whose highest bit differing from last_ is i-1
    std::uint64_t last_ = 0;
    std::uint64_t occupied_ = 0;  // bit i-1 set iff bucket i >= 1 is non-empty (found by ctz)
    std::size_t size_ = 0;
};

// The targets of the searches of one workspace: membership by epoch (a node is a target when its
// mark equals the current epoch), so that marking k targets costs O(k) with no clearing between
// target sets. Shared by DijkstraQuery and TurnQuery.
class TargetSet {
public:
    void resize(index_t num_nodes) {
        mark_.assign(static_cast<std::size_t>(num_nodes), 0);
        epoch_ = 0;
        count_ = 0;
    }
    // Ids must be in range (not checked here); duplicates are fine; an empty span clears the set.
    void assign(Span<const index_t> targets) {
        if (++epoch_ == 0) {  // after 2^32 sets the epochs run out: forget every mark once
            std::fill(mark_.begin(), mark_.end(), 0u);
            epoch_ = 1;
        }
        count_ = 0;
        for (index_t t : targets)
            if (mark_[t] != epoch_) {
                mark_[t] = epoch_;
                ++count_;
            }
    }
    // Meaningful only while size() > 0.
    bool contains(index_t v) const { return mark_[v] == epoch_; }
    index_t size() const { return count_; }  // distinct targets

private:
    std::vector<std::uint32_t> mark_;
    std::uint32_t epoch_ = 0;
    index_t count_ = 0;
};

// Dijkstra workspace. Labels carry a per-search stamp, so starting a search costs O(1) instead of
// an O(num_nodes) reset: each search uses two stamp values, base (reached) and base + 1
// (settled); a label with an older stamp reads as unreached. Not thread-safe: one per thread.
class DijkstraQuery {
public:
    explicit DijkstraQuery(index_t num_nodes = 0) { resize(num_nodes); }
    void resize(index_t num_nodes);
    index_t num_nodes() const { return static_cast<index_t>(label_.size()); }

    // Mark the targets (internal ids) for the following searches, until the next set_targets();
    // an empty span clears them. Duplicates are fine.
    void set_targets(Span<const index_t> targets) { targets_.assign(targets); }

    // Search from `source` (internal id; must be in range) until every target is settled (all
    // nodes when there are no targets) or the next node to settle costs more than `radius`.
    // Afterwards exactly the settled nodes report their cost; others read as unreached.
    template <class Graph>
    void run(const Graph& g, index_t source, double radius = kInf);

    bool settled(index_t v) const { return label_[v].stamp == base_ + 1; }
    double distance(index_t v) const { return settled(v) ? label_[v].dist : kInf; }
    // The edge entering v on its shortest path (-1 at the source and for unsettled nodes); the
    // graph's tail(edge) gives the previous node.
    index_t pred_edge(index_t v) const { return settled(v) ? label_[v].pred_edge : kInvalidIndex; }
    index_t num_settled() const { return num_settled_; }

private:
    // 16 bytes, four to a cache line; the stamp sits next to the cost it guards.
    struct Label {
        double dist;
        std::uint32_t stamp;
        index_t pred_edge;
    };
    void next_stamp();

    std::vector<Label> label_;
    RadixHeap heap_;
    std::uint32_t base_ = 0;
    TargetSet targets_;
    index_t num_settled_ = 0;
};

// A thread-safe free list of workspaces, so that repeated calls (e.g. from Python) reuse memory.
// Owned by whoever owns the graph the workspaces are sized for.
template <class Workspace>
class WorkspacePool {
public:
    // A workspace sized for num_nodes, returned to the pool when the handle dies.
    struct Deleter {
        WorkspacePool* pool;
        void operator()(Workspace* w) const {
            if (pool) pool->put(w); else delete w;
        }
    };
    using Handle = std::unique_ptr<Workspace, Deleter>;

    Handle get(index_t num_nodes) {
        std::unique_ptr<Workspace> w;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!free_.empty()) {
                w = std::move(free_.back());
                free_.pop_back();
            }
        }
        if (!w) w = std::make_unique<Workspace>(num_nodes);
        else if (w->num_nodes() != num_nodes) w->resize(num_nodes);
        return Handle(w.release(), Deleter{this});
    }

private:
    void put(Workspace* w) {
        std::unique_ptr<Workspace> owned(w);
        std::lock_guard<std::mutex> lock(mutex_);
        free_.push_back(std::move(owned));
    }
    std::mutex mutex_;
    std::vector<std::unique_ptr<Workspace>> free_;
};

using DijkstraPool = WorkspacePool<DijkstraQuery>;

// ------------------------------------------------------------------------------------------------
// Trees. Node ids are the network's dense ids. Outputs have num_nodes entries in network node
// order: the cost of every node the search settled and its predecessor link (the link entering it
// on a shortest path; -1 at the origin). Nodes not settled - unreachable, beyond `radius`, or
// farther than the farthest target - get inf and -1.
//
// Validation: origin in range (InputError "origin"), targets in range ("targets"), radius not NaN
// ("radius"), output lengths ("dist", "pred_link").
void shortest_path_tree(const RoutingGraph& g, DijkstraQuery& q, index_t origin,
                        Span<const index_t> targets, double radius, Span<double> dist,
                        Span<index_t> pred_link);
void shortest_path_tree(const LinkWeightView& g, DijkstraQuery& q, index_t origin,
                        Span<const index_t> targets, double radius, Span<double> dist,
                        Span<index_t> pred_link);

// Textbook Dijkstra (binary heap with lazy deletion, costs read through the link index, O(n)
// initialisation), one-to-all, zones rule included. It is the baseline the optimised searches are
// benchmarked against and a second opinion in tests; it validates like shortest_path_tree.
void reference_dijkstra(StarView forward, Span<const double> weight, index_t first_thru_node,
                        index_t origin, Span<double> dist, Span<index_t> pred_link);

// ------------------------------------------------------------------------------------------------
// Batched queries. threads <= 0 means std::thread::hardware_concurrency(). `progress` (may be
// empty) is called on the calling thread with (done, total) items; returning false cancels
// (Cancelled is thrown after all threads stop). `pool` (may be null) provides the workspaces.

// out[i * targets.size() + j] = cost from origins[i] to targets[j] (inf when unreachable),
// row-major. One Dijkstra per origin, stopped once every target is settled.
void distance_matrix(const RoutingGraph& g, Span<const index_t> origins,
                     Span<const index_t> targets, Span<double> out, int threads,
                     const ProgressFn& progress = {}, DijkstraPool* pool = nullptr);

// Shortest paths for the pairs (origins[i], dests[i]). Path i is
// links[offsets[i] .. offsets[i+1]) (network link indices, origin to destination); an unreachable
// pair has cost inf and no links, and origin == destination has cost 0 and no links.
struct PathBatch {
    std::vector<double> cost;
    std::vector<std::int64_t> offsets;
    std::vector<index_t> links;
};
// Queries sharing an origin are answered by one search.
PathBatch shortest_paths(const RoutingGraph& g, Span<const index_t> origins,
                         Span<const index_t> dests, int threads, const ProgressFn& progress = {},
                         DijkstraPool* pool = nullptr);
// Costs only: out[i] = cost of path i (inf when unreachable); out must have origins.size()
// entries ("out"). Same searches as shortest_paths, without walking the paths back.
void shortest_path_costs(const RoutingGraph& g, Span<const index_t> origins, Span<const index_t> dests,
                         Span<double> out, int threads, const ProgressFn& progress = {},
                         DijkstraPool* pool = nullptr);

// ------------------------------------------------------------------------------------------------
// Turn penalties and bans: routing on links (edge-based) instead of nodes.
//
// A turn is a pair of links (from, to) with head(from) == tail(to). A turn table gives some turns a
// penalty (>= 0, in the unit of the weight) or bans them (inf); every other turn costs nothing. A
// node-based search keeps one cost per node and cannot tell how a node was entered, which is what a
// restriction depends on, so these searches label *links*: the label of a link is the cost of the
// cheapest path that ends by traversing it (Dijkstra on the line graph, whose nodes are the links
// and whose arcs are the allowed turns; Winter 2002, "Modeling costs of turns in route planning").
// A path's cost is the sum of its links' weights and of the penalties of the turns it takes; it
// starts with any link out of the origin (no turn) and reaches a node by its cheapest entering
// link. Zones rule as in node-based searches: a path never continues from a link that enters a
// zone (a node below first_thru_node), the origin's own outgoing links excepted, which start it.
//
// The turn table lives in the index, so a TurnGraph is built per weight and turn table; it is
// immutable and thread-safe like RoutingGraph, with one TurnQuery workspace per thread.
class TurnGraph {
public:
    TurnGraph() = default;
    // Validates the star, the weights ("weight"), first_thru_node and the turns ("turns": entry
    // i must join two links that meet, with a penalty >= 0 or inf). A turn listed twice keeps the
    // larger penalty (a ban wins). Copies everything.
    TurnGraph(StarView forward, Span<const double> weight, index_t first_thru_node,
              Span<const index_t> turn_from, Span<const index_t> turn_to, Span<const double> turn_penalty);

    // Same topology and turns, new link weights (validated). O(links).
    TurnGraph with_weight(Span<const double> weight) const;

    index_t num_nodes() const { return static_cast<index_t>(first_.size()) - 1; }
    index_t num_links() const { return static_cast<index_t>(head_.size()); }
    index_t num_turns() const { return static_cast<index_t>(turn_to_.size()); }
    index_t first_thru_node() const { return first_thru_node_; }

private:
    friend class TurnQuery;
    // Links are numbered internally by their position in the forward star ("edges"), so that the
    // links leaving a node are a contiguous range: edge e leaves tail_[e] towards head_[e].
    index_t first_thru_node_ = 0;
    std::vector<index_t> first_{0};  // node -> its first edge (num_nodes + 1)
    std::vector<index_t> head_, tail_, link_;
    std::vector<double> cost_;
    std::vector<index_t> edge_of_link_;  // network link -> edge
    // Turns by from-edge, sorted by to-edge: edge a's turns are turn_to_[turn_first_[a] ..
    // turn_first_[a+1]), with penalties turn_penalty_.
    std::vector<index_t> turn_first_{0}, turn_to_;
    std::vector<double> turn_penalty_;
};

// Link-label Dijkstra workspace (stamped labels, as DijkstraQuery). Not thread-safe: one per thread.
class TurnQuery {
public:
    // Sized for num_nodes; run() sizes the link labels for its graph (so that WorkspacePool,
    // which knows node counts only, can hand these out).
    explicit TurnQuery(index_t num_nodes = 0) { resize(num_nodes); }
    void resize(index_t num_nodes);
    index_t num_nodes() const { return static_cast<index_t>(node_.size()); }

    // Network node ids, as in shortest_path_tree. Origin and targets must be in range (not
    // checked here); duplicates are fine.
    void set_targets(Span<const index_t> targets) { targets_.assign(targets); }
    void run(const TurnGraph& g, index_t origin, double radius = kInf);

    // After run(): a node's cost (inf unless settled: reached at most `radius` away, and no
    // costlier than the costliest target) and the network link by which a shortest path enters it
    // (-1 at the origin and for unsettled nodes).
    double distance(index_t v) const { return node_[v].stamp == base_ ? node_[v].dist : kInf; }
    index_t last_link(index_t v) const;
    // Appends the network links of the path found to v (origin to v; nothing when unsettled).
    void path(index_t v, std::vector<index_t>& links) const;

private:
    struct Label {
        double dist;
        std::uint32_t stamp;
        index_t pred;  // edge labels: previous edge; node labels: the edge entering the node
    };
    const TurnGraph* g_ = nullptr;
    std::vector<Label> edge_, node_;
    RadixHeap heap_;
    std::uint32_t base_ = 0;  // edge labels: reached == base_, settled == base_ + 1; nodes: == base_
    TargetSet targets_;
    index_t origin_ = kInvalidIndex;
};

using TurnPool = WorkspacePool<TurnQuery>;

// As the RoutingGraph versions above (same validation, outputs, threads, zones rule), with turns.
// pred_link holds the link by which a shortest path enters each node; unlike a node-based tree,
// following pred_link from the tail of that link need not retrace the same path (a path may enter
// a node one way and pass through it another), so paths come from shortest_paths.
void shortest_path_tree(const TurnGraph& g, TurnQuery& q, index_t origin, Span<const index_t> targets,
                        double radius, Span<double> dist, Span<index_t> pred_link);
void distance_matrix(const TurnGraph& g, Span<const index_t> origins, Span<const index_t> targets,
                     Span<double> out, int threads, const ProgressFn& progress = {},
                     TurnPool* pool = nullptr);
PathBatch shortest_paths(const TurnGraph& g, Span<const index_t> origins, Span<const index_t> dests,
                         int threads, const ProgressFn& progress = {}, TurnPool* pool = nullptr);

}  // namespace smartcore
