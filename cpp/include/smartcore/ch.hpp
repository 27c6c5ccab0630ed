// Contraction hierarchies: a classic, weight-dependent CH (Geisberger, Sanders, Schultes and
// Delling 2008) and a customisable CH (Dibbelt, Strasser and Wagner 2016), both producing the same
// searchable `Hierarchy`, on which point-to-point queries with paths and many-to-many matrices by
// the bucket method (Knopp, Sanders, Schultes, Schulz and Wagner 2007) run.
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
    index_t first_thru_node = 0;  // zones 0 .. first_thru_node-1 have source copies
    std::vector<index_t> rank;    // split-graph node (network node, or n + zone) -> rank
    std::vector<index_t> first;   // rank -> its first edge; num_ranks + 1 entries
    std::vector<index_t> head;    // edge -> rank of its higher end

    index_t num_ranks() const { return static_cast<index_t>(first.size()) - 1; }
    index_t num_edges() const { return static_cast<index_t>(head.size()); }
    index_t lower(index_t edge) const { return tail_of(first, edge); }
    // Where a search from / to network node v starts.
    index_t source_rank(index_t v) const {
        return rank[v < first_thru_node ? num_network_nodes + v : v];
    }
    index_t target_rank(index_t v) const { return rank[v]; }
};

// A topology with one metric: what queries read.
struct Hierarchy {
    std::shared_ptr<const ChTopology> topo;
    std::vector<double> up, down;                // per edge; inf: no such direction
    std::vector<ChUnpack> unpack_up, unpack_down;

    index_t num_network_nodes() const { return topo ? topo->num_network_nodes : 0; }
};

// ------------------------------------------------------------------------------------------------
// Classic CH. Nodes are contracted in order of a lazily updated priority
//     2 * (shortcuts added - edges removed) + contracted neighbours + level
// (edge difference, deleted neighbours, and the hierarchy depth below the node, which keeps
// search spaces shallow). A shortcut u -> w around v is skipped when a witness search from u that
// avoids v finds w no costlier; the search gives up after `witness_settle_limit` nodes, which can
// only add superfluous shortcuts, never lose a path. Deterministic; single-threaded.
struct ChOptions {
    index_t witness_settle_limit = 500;
};

// Validates like RoutingGraph. `progress` receives (contracted nodes, nodes).
Hierarchy build_contraction_hierarchy(StarView forward, Span<const double> weight,
                                      index_t first_thru_node, const ChOptions& options = {},
                                      const ProgressFn& progress = {});

// ------------------------------------------------------------------------------------------------
// Customisable CH: the order and the edges depend on the graph only (nested dissection by
// breadth-first level separators: a whole BFS level separates the levels before it from those
// after it), so a new weight costs only a customisation, one pass over the links and over the
// lower triangles of the chordal completion. Immutable after construction.
class CustomizableCH {
public:
    CustomizableCH() = default;
    // Validates the star and first_thru_node; `progress` receives (nodes ordered, nodes).
    CustomizableCH(StarView forward, index_t first_thru_node, const ProgressFn& progress = {});

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
// Query workspace (stamped labels, as DijkstraQuery). Not thread-safe: one per thread.
class ChQuery {
public:
    explicit ChQuery(index_t num_ranks = 0) { resize(num_ranks); }
    void resize(index_t num_ranks);
    index_t num_nodes() const { return static_cast<index_t>(fwd_.size()); }

    // Cost of a shortest path between two network nodes (inf when there is none); when `links`
    // is given, the path's network links are appended to it. Bidirectional upward search with
    // stall-on-demand. Node ids must be in range (not checked here).
    double shortest_path(const Hierarchy& h, index_t origin, index_t destination,
                         std::vector<index_t>* links = nullptr);

    // Complete upward search from network node v (forward: as an origin; backward: as a
    // destination); appends (rank, cost) of every settled, unstalled node to `space`.
    void upward_search(const Hierarchy& h, index_t v, bool forward,
                       std::vector<std::pair<index_t, double>>& space);

private:
    struct Label {
        double dist;
        std::uint32_t stamp;
        index_t pred_edge;
    };
    void next_stamp();
    void unpack(const Hierarchy& h, index_t edge, bool up, std::vector<index_t>& links);

    std::vector<Label> fwd_, bwd_;
    RadixHeap fheap_, bheap_;
    std::uint32_t base_ = 0;  // reached == base_, settled == base_ + 1 (see DijkstraQuery)
    std::vector<std::pair<index_t, bool>> stack_;  // unpacking
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

}  // namespace smartcore
