// Contraction hierarchies: a classic, weight-dependent CH (Geisberger, Sanders, Schultes and
// Delling 2008) and a customisable CH (Dibbelt, Strasser and Wagner 2016), both producing the same
// searchable `Hierarchy`, on which run point-to-point queries with or without paths, many-to-many
// matrices by the bucket method (Knopp, Sanders, Schultes, Schulz and Wagner 2007) and one-to-all
// trees by PHAST (Delling, Goldberg, Nowatzyk and Werneck 2011).
//
// Queries. Classic CH: both upward searches in rank order (a bitset queue, no priority queue on
// costs: see RankQueue) with stall-on-demand and pruning by the best path found. Customisable
// CH: no queue at all, the two
// searches walk up the elimination tree (see ChTopology::parent). Both read compact per-direction
// arc arrays (Hierarchy::upward() / downward()) and labels kept as plain arrays reset after each
// search, which makes their inner loops branch-free (what mostly limits these small searches is
// mispredicted branches, not memory).
//
// Zones rule. A node below first_thru_node may start or end a path but never lie inside one. The
// hierarchies are built on a split graph: zone z keeps its incoming links, and its outgoing links
// leave a "source copy" of it (an extra node num_nodes + z) instead. No path can cross z (it has
// no way out) or its copy (no way in), and a query from zone z starts at the copy. Origin ==
// destination costs 0 by definition, with no links.
//
// Representation. Nodes are numbered by rank (contraction order: id = rank, so a search, which
// only climbs, walks memory mostly upwards). Every hierarchy edge joins a lower-ranked node to a
// higher-ranked one and is listed once, at its lower end; it has two directions, "up"
// (lower -> higher) and "down" (higher -> lower), each with a weight (inf when that direction does
// not exist) and an unpacking rule. A forward search climbs with the up weights; a backward search
// (from a target, on reversed links) climbs with the down weights.
//
// Ownership and thread-safety: a Hierarchy holds its topology by shared_ptr (customised metrics
// of one CustomizableCH share it) and is immutable after construction; any number of threads may
// query it, each with its own ChQuery.
#pragma once

#include <memory>
#include <vector>

#include "smartcore/common.hpp"
#include "smartcore/graph.hpp"
#include "smartcore/routing.hpp"

namespace smartcore {

// How one direction of an edge expands into network links: second == -1 means `first` is a network
// link; otherwise the direction is the concatenation of the *down* direction of edge `first` and
// the *up* direction of edge `second` (both edges hang below the middle node, so unpacking ends).
struct ChUnpack {
    index_t first = kInvalidIndex;
    index_t second = kInvalidIndex;
};

// Node ranks and edges, independent of the weights.
struct ChTopology {
    index_t num_network_nodes = 0;
    index_t num_network_links = 0;
    index_t first_thru_node = 0;  // zones 0 .. first_thru_node-1 have source copies
    std::vector<index_t> rank;    // split-graph node (network node, or n + zone) -> rank
    std::vector<index_t> first;   // rank -> its first edge; num_ranks + 1 entries
    std::vector<index_t> head;    // edge -> rank of its higher end
    // Customisable CH only (empty for a classic CH): the elimination-tree parent of each rank, its
    // lowest higher neighbour (-1 at a root). The topology is chordal, so the upward search space
    // of a node is exactly its ancestors, which a query walks in rank order with no queue.
    std::vector<index_t> parent;

    index_t num_ranks() const { return static_cast<index_t>(first.size()) - 1; }
    index_t num_edges() const { return static_cast<index_t>(head.size()); }
    index_t lower(index_t edge) const { return tail_of(first, edge); }
    // Where a search from / to network node v starts.
    index_t source_rank(index_t v) const {
        return rank[v < first_thru_node ? num_network_nodes + v : v];
    }
    index_t target_rank(index_t v) const { return rank[v]; }
};

// The hierarchy as queries read it: the arcs of rank v that exist in each direction (finite
// weight), 16 bytes an arc (a search reads weight and head together). Both directions of a rank
// share one block, its up arcs then its down arcs: a search settling v stalls on the arcs of one
// direction and relaxes those of the other, which are then adjacent in memory (one block of
// cache lines instead of two places). Against one array per direction, p2p queries on
// Philadelphia went from 11.2-11.3 to 10.4-10.6 us (costs) and 14.4-14.5 to 13.5-13.7 us (paths)
// on one thread (routing_bench, CPU time, 20000 queries). Not kept, no gain measured: 12-byte
// arcs (packed, the edge in a parallel array: 10.9-11.5 us), prefetching the block of a node
// when it is queued (10.7 us); the search's labels and arcs stay in cache, what costs is the
// work per settled node (~140 settled, ~50 of them stalled, ~1500 arcs read per query).
struct ChArc {
    double weight;
    index_t head;  // the higher end (rank)
    index_t edge;  // the hierarchy edge, for unpacking paths
};
// One direction of a Hierarchy's arcs, a view (valid while the Hierarchy lives, unchanged).
struct ChSearchGraph {
    const index_t* first = nullptr;  // Hierarchy::arc_first, +1 for the down direction
    const ChArc* arcs = nullptr;
    const ChArc* begin(index_t v) const { return arcs + first[2 * static_cast<std::size_t>(v)]; }
    const ChArc* end(index_t v) const { return arcs + first[2 * static_cast<std::size_t>(v) + 1]; }
};

// A topology with one metric: what queries read.
struct Hierarchy {
    std::shared_ptr<const ChTopology> topo;
    std::vector<double> up, down;                // per edge; inf: no such direction
    std::vector<ChUnpack> unpack_up, unpack_down;
    // Built from up/down by finalize(): forward searches relax upward() and stall on
    // downward(), backward searches the other way round. Searching these instead of the edge
    // arrays skips the missing directions (a third to a half of the edges of a road network)
    // without a test, and keeps each arc's weight next to its head. Rank v's up arcs are
    // arcs[arc_first[2v] .. arc_first[2v+1]), its down arcs arcs[arc_first[2v+1] ..
    // arc_first[2v+2]) (see ChArc).
    std::vector<index_t> arc_first;  // 2 * num_ranks + 1
    std::vector<ChArc> arcs;
    ChSearchGraph upward() const { return {arc_first.data(), arcs.data()}; }
    ChSearchGraph downward() const { return {arc_first.data() + 1, arcs.data()}; }

    index_t num_network_nodes() const { return topo ? topo->num_network_nodes : 0; }
    // (Re)builds arc_first/arcs from topo, up and down. The builders call it; call it again after
    // changing up or down by hand.
    void finalize();
};

// ------------------------------------------------------------------------------------------------
// Classic CH (Geisberger, Sanders, Schultes and Delling 2008). A shortcut u -> w around v is
// skipped when a witness search from u that avoids v finds w no costlier; the search gives up
// after `witness_settle_limit` nodes, which can only add superfluous shortcuts, never lose a path.
// Deterministic; single-threaded. Two contraction orders:
//
// * kGreedy: a lazily updated priority (RoutingKit's)
//       1000 * level + 1000 * shortcuts added / arcs removed + 1000 * their links / links removed
//   (the hierarchy depth below the node, which keeps search spaces shallow, and how much the
//   shortcuts would grow the graph, by arcs and by the network links they stand for). Best
//   queries on road networks and on grids. Every contraction re-simulates the contraction of
//   all the neighbours, which witness searches that stop at their last target keep affordable:
//   the 1000 x 1000 grid with random weights builds in 519 CPU s (peak 1.9 GB; it did not
//   finish in 25 minutes before that stop), and its 1000 x 1000 bucket matrix takes 0.22 s on
//   one thread, ~1000x scipy's Dijkstra.
// * kDissection: the nested dissection order of the customisable CH below (Dibbelt, Strasser and
//   Wagner 2016; weight-independent, geometric cuts when node_x/node_y are given), contracted
//   with witness searches as above; such orders bound CH search spaces on grid-like graphs
//   (Bauer, Columbus, Rutter and Wagner 2016, "Search-space size in contraction hierarchies").
//   No priorities to simulate, and the witness searches drop most of the separator cliques of
//   the CCH, so queries search a normal CH (rank-order searches with stall-on-demand, no `parent`). Always
//   finishes, in time set by the separators: the 1000 x 1000 grid in ~12 CPU minutes (28.7M
//   edges, ~2.2 GB), where a 1000 x 1000 bucket matrix takes 6-11 s on 2 threads, 20-37x
//   scipy's Dijkstra, ~50x slower than on the greedy CH: the top separators leave upward
//   search spaces of ~630 nodes already on the 300 x 300 grid. On road networks too the greedy
//   order is better: Philadelphia, 102 nodes per upward search against 54, p2p queries 26 us
//   against 15 us.
enum class ChOrder { kGreedy, kDissection };

struct ChOptions {
    // Settled nodes after which a witness search gives up; 0: the order's default (greedy 500,
    // as RoutingKit; dissection 100, see ch.cpp).
    index_t witness_settle_limit = 0;
    ChOrder order = ChOrder::kGreedy;
    // kDissection only, optional: planar node coordinates for geometric cuts (as
    // CustomizableCH); both empty or one finite value per network node ("node_x"). Views: the
    // arrays must outlive the call.
    Span<const double> node_x, node_y;
};

// Validates like RoutingGraph (and node_x/node_y as CustomizableCH). `progress` receives
// (contracted nodes, nodes); with kDissection, (0, nodes) while the order is computed.
Hierarchy build_contraction_hierarchy(StarView forward, Span<const double> weight,
                                      index_t first_thru_node, const ChOptions& options = {},
                                      const ProgressFn& progress = {});

// ------------------------------------------------------------------------------------------------
// Customisable CH: the order and the edges depend on the graph only (nested dissection by
// minimum vertex cuts, see nested_dissection in ch.cpp), so a new weight costs only a
// customisation, one pass over the links and over the lower triangles of the chordal completion.
// Immutable after construction.
class CustomizableCH {
public:
    CustomizableCH() = default;
    // Validates the star and first_thru_node; `progress` receives (nodes ordered, nodes).
    CustomizableCH(StarView forward, index_t first_thru_node, const ProgressFn& progress = {});
    // With node coordinates (planar: project lon/lat first), the dissection also tries geometric
    // cuts (inertial flow), which suits grids and most road networks. Both spans empty = none;
    // otherwise one finite value per node ("node_x").
    CustomizableCH(StarView forward, index_t first_thru_node, Span<const double> node_x,
                   Span<const double> node_y, const ProgressFn& progress = {});

    // The hierarchy for `weight` (validated: InputError "weight"). O(links + triangles); the
    // lower triangles are enumerated by merging sorted neighbour lists rather than stored (a
    // stored list was only 10% faster on Philadelphia, and grids have n^1.5 triangles).
    Hierarchy customize(Span<const double> weight) const;

    const std::shared_ptr<const ChTopology>& topology() const { return topo_; }
    std::size_t num_triangles() const { return num_triangles_; }
    std::size_t num_links() const { return link_edge_.size(); }

private:
    std::shared_ptr<const ChTopology> topo_;
    std::vector<index_t> link_edge_;      // network link -> edge (-1: a self loop, never useful)
    std::vector<std::uint8_t> link_up_;   // 1: the link runs lower -> higher rank
    std::size_t num_triangles_ = 0;
};

// ------------------------------------------------------------------------------------------------
// The nodes queued by an upward search, popped in increasing rank. Every arc of an upward graph
// leads to a higher rank, so rank order is a topological order: a node popped has every lower
// neighbour of the search behind it and its cost is final, with no priority queue on costs. A
// three-level bitset (bit v of level 0, bit v/64 of level 1, bit v/4096 of level 2) makes push and
// pop a handful of bit operations; pushes always lie above the last pop (upward arcs), so the
// search for the lowest set bit starts at a cursor that only moves up.
class RankQueue {
public:
    void resize(index_t num_nodes) {
        const std::size_t n0 = (static_cast<std::size_t>(num_nodes) + 63) / 64;
        const std::size_t n1 = (n0 + 63) / 64;
        const std::size_t n2 = (n1 + 63) / 64;
        l0_.assign(n0, 0);
        l1_.assign(n1, 0);
        l2_.assign(n2 + 1, 0);
        l2_[n2] = 1;  // sentinel: the cursor scan always stops
        size_ = 0;
        cursor_ = 0;
    }
    bool empty() const { return size_ == 0; }
    // Ranks pushed must be higher than the last one popped (since the last clear()); a rank
    // already queued is not queued twice.
    void push(index_t v) {
        const std::size_t i0 = static_cast<std::uint32_t>(v) >> 6, i1 = i0 >> 6, i2 = i1 >> 6;
        const std::uint64_t bit = std::uint64_t{1} << (v & 63);
        size_ += (l0_[i0] & bit) == 0;
        l0_[i0] |= bit;
        l1_[i1] |= std::uint64_t{1} << (i0 & 63);
        l2_[i2] |= std::uint64_t{1} << (i1 & 63);
        if (i2 < cursor_) cursor_ = i2;
    }
    // The lowest queued rank, removed (the queue must not be empty).
    index_t pop() {
        while (l2_[cursor_] == 0) ++cursor_;
        const std::size_t i2 = cursor_;
        const std::size_t i1 = i2 * 64 + static_cast<std::size_t>(__builtin_ctzll(l2_[i2]));
        const std::size_t i0 = i1 * 64 + static_cast<std::size_t>(__builtin_ctzll(l1_[i1]));
        const std::uint64_t w = l0_[i0];
        const index_t v = static_cast<index_t>(i0 * 64 + static_cast<std::size_t>(__builtin_ctzll(w)));
        l0_[i0] = w & (w - 1);
        if (l0_[i0] == 0) {
            l1_[i1] &= ~(std::uint64_t{1} << (i0 & 63));
            if (l1_[i1] == 0) l2_[i2] &= ~(std::uint64_t{1} << (i1 & 63));
        }
        --size_;
        return v;
    }
    // Empties the queue; `queued` must include every rank still queued.
    void clear(const std::vector<index_t>& queued) {
        if (size_ != 0)
            for (index_t v : queued) {
                const std::size_t i0 = static_cast<std::uint32_t>(v) >> 6;
                l0_[i0] = 0;
                l1_[i0 >> 6] = 0;
                l2_[i0 >> 12] = 0;
            }
        size_ = 0;
        cursor_ = 0;
    }

private:
    std::vector<std::uint64_t> l0_, l1_, l2_;
    std::size_t size_ = 0;
    std::size_t cursor_ = 0;  // no level-2 word below it is non-zero
};

// Query workspace. Not thread-safe: one per thread. Labels are plain arrays (cost, inf when
// unreached; entering edge) reset after each search through the list of nodes it touched, rather
// than stamped as in DijkstraQuery: hierarchy searches touch a few hundred nodes, and without a
// stamp to check, the label tests of the stall and relax loops compile to branch-free code (a
// third of the time of a query went to mispredicted branches on those tests).
class ChQuery {
public:
    explicit ChQuery(index_t num_ranks = 0) { resize(num_ranks); }
    void resize(index_t num_ranks);
    index_t num_nodes() const { return static_cast<index_t>(fwd_.dist.size()); }

    // Cost of a shortest path between two network nodes (inf when there is none); when `links`
    // is given, the path's network links are appended to it. A classic CH is searched by two
    // upward searches in rank order with stall-on-demand, a customisable CH by walking both
    // elimination-tree paths (see ChTopology::parent). Node ids must be in range (not checked
    // here).
    double shortest_path(const Hierarchy& h, index_t origin, index_t destination,
                         std::vector<index_t>* links = nullptr);

    // Complete upward search from network node v (forward: as an origin; backward: as a
    // destination); appends (rank, cost) of every reached node that is not stalled to `space`
    // (stall-on-demand: a node is stalled when a higher neighbour proves its cost not shortest;
    // a stalled node can be neither the meeting node nor on the way up to it).
    void upward_search(const Hierarchy& h, index_t v, bool forward,
                       std::vector<std::pair<index_t, double>>& space);

    // One-to-all by PHAST (Delling, Goldberg, Nowatzyk and Werneck 2011): the forward upward
    // search from `origin`, then one sweep over all ranks from the top down, each node taking the
    // cheapest of its incoming down arcs from higher nodes, which are final by then: no queue and
    // a linear scan of memory. Predecessors come from a breadth-first search from the origin
    // over the tight links (dist[tail] + weight == dist[head], to a relative 1e-12 for rounding:
    // the sweep adds in another order than a path does), which yields a tree even along
    // zero-cost cycles (a node's cheapest incoming shortcut alone would not: Philadelphia's
    // zero-cost connectors form such cycles). `graph` must be the network and weight the
    // hierarchy was built for. Outputs as shortest_path_tree (network order). Returns false,
    // pred_link then unspecified, if the tight links missed a reached node (rounding beyond the
    // tolerance): fall back to Dijkstra. Sizes must match (unchecked).
    bool phast_tree(const Hierarchy& h, index_t origin, const RoutingGraph& graph, Span<double> dist,
                    Span<index_t> pred_link);

private:
    // One search direction: labels, touched nodes, queue.
    struct Side {
        std::vector<double> dist;      // inf: unreached
        std::vector<index_t> pred;     // hierarchy edge entering the node
        std::vector<index_t> touched;  // nodes whose dist is finite
        RankQueue queue;
        void resize(index_t n);
        void reset();  // every dist back to inf, queue emptied
        void start(index_t v) {
            dist[v] = 0.0;
            pred[v] = kInvalidIndex;
            touched.push_back(v);
        }
    };
    double tree_query(const Hierarchy& h, index_t s, index_t t, index_t& meet);
    double rank_query(const Hierarchy& h, index_t s, index_t t, index_t& meet);
    void unpack(const Hierarchy& h, index_t edge, bool up, std::vector<index_t>& links);

    Side fwd_, bwd_;
    std::vector<double> sweep_;    // by rank (phast_tree)
    std::vector<index_t> queue_;   // phast_tree's breadth-first search, in graph order:
    std::vector<double> tree_dist_;
    std::vector<index_t> tree_pred_;
    std::vector<std::pair<index_t, bool>> stack_;  // unpacking
    std::vector<index_t> climb_;                   // unpacking
};

using ChPool = WorkspacePool<ChQuery>;

// As the RoutingGraph overloads in routing.hpp (same validation, outputs and threading), by
// hierarchy: the matrix by the bucket method (one backward search per target fills buckets, one
// forward search per origin scans them), the paths by bidirectional queries.
void distance_matrix(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> targets,
                     Span<double> out, int threads, const ProgressFn& progress = {},
                     ChPool* pool = nullptr);
PathBatch shortest_paths(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> dests,
                         int threads, const ProgressFn& progress = {}, ChPool* pool = nullptr);

// ChQuery::phast_tree with validation ("origin"; "graph": a RoutingGraph of another network;
// output lengths "dist"/"pred_link"). Returns false as there.
bool phast_tree(const Hierarchy& h, ChQuery& q, index_t origin, const RoutingGraph& graph,
                Span<double> dist, Span<index_t> pred_link);

// Costs only (no path unpacking) for the pairs (origins[i], dests[i]): out[i], inf when
// unreachable. Validation as shortest_paths; out must have origins.size() entries ("out").
void shortest_path_costs(const Hierarchy& h, Span<const index_t> origins, Span<const index_t> dests,
                         Span<double> out, int threads, const ProgressFn& progress = {},
                         ChPool* pool = nullptr);

}  // namespace smartcore
