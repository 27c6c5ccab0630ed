// Compressed sparse row (forward and reverse star) representation of a directed multigraph.
//
// Links keep their input order (the order of the source file) as their identity; the CSR arrays
// list, for every node, its outgoing (incoming) links in increasing link order. Parallel links and
// self loops are kept: a road network is a multigraph (two links between the same nodes with
// different capacities are two links, never summed).
#pragma once

#include <vector>

#include "smartcore/common.hpp"

namespace smartcore {

// Non-owning view of one star (forward or reverse): the links around node v are
// link[first[v] .. first[v+1]) and their far ends are other[first[v] .. first[v+1]).
struct StarView {
    Span<const index_t> first;  // num_nodes + 1 offsets
    Span<const index_t> link;   // num_links link indices
    Span<const index_t> other;  // num_links far-end nodes (head for forward, tail for reverse)

    index_t num_nodes() const { return static_cast<index_t>(first.size() - 1); }
};

// Check that `tail` and `head` have equal length and every entry lies in [0, num_nodes).
// Throws InputError naming "tail"/"head" and the first offending link otherwise.
void validate_links(index_t num_nodes, Span<const index_t> tail, Span<const index_t> head);

// Build a star by a stable counting sort of the links on `key` (tail for the forward star, head
// for the reverse star). Outputs: first (num_nodes + 1), link (num_links), other (num_links).
// O(num_nodes + num_links); deterministic; inputs must have passed validate_links.
void build_star(index_t num_nodes, Span<const index_t> key, Span<const index_t> other_end,
                Span<index_t> first, Span<index_t> link, Span<index_t> other);

// Owning forward + reverse star, for C++ users and tests.
struct Graph {
    index_t num_nodes = 0;
    std::vector<index_t> tail, head;
    std::vector<index_t> fs_first, fs_link, fs_head;  // forward star
    std::vector<index_t> bs_first, bs_link, bs_tail;  // reverse star

    static Graph from_links(index_t num_nodes, std::vector<index_t> tail, std::vector<index_t> head);
    index_t num_links() const { return static_cast<index_t>(tail.size()); }
    StarView forward() const { return {fs_first, fs_link, fs_head}; }
    StarView reverse() const { return {bs_first, bs_link, bs_tail}; }
};

// Number of weakly connected components and a component label per node (labels are the smallest
// node index of the component, so the labelling is deterministic).
index_t weak_components(index_t num_nodes, Span<const index_t> tail, Span<const index_t> head,
                        Span<index_t> label);

// Strongly connected components (iterative Kosaraju over the forward and reverse stars, no
// recursion, so no stack overflow on long paths). Returns the number of components; label[v] is
// the smallest node index of v's component (deterministic).
index_t strong_components(StarView forward, StarView reverse, Span<index_t> label);

}  // namespace smartcore
