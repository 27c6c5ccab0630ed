#include "smartcore/graph.hpp"

#include <algorithm>
#include <numeric>
#include <string>

namespace smartcore {

void validate_links(index_t num_nodes, Span<const index_t> tail, Span<const index_t> head) {
    if (num_nodes < 0) throw InputError("num_nodes", -1, "num_nodes must be >= 0");
    if (tail.size() != head.size())
        throw InputError("head", -1,
                         "tail and head must have the same length (" + std::to_string(tail.size()) +
                             " != " + std::to_string(head.size()) + ")");
    if (tail.size() > static_cast<std::size_t>(std::numeric_limits<index_t>::max()))
        throw InputError("tail", -1, "too many links for 32-bit link indices");
    for (std::size_t i = 0; i < tail.size(); ++i) {
        if (tail[i] < 0 || tail[i] >= num_nodes)
            throw InputError("tail", static_cast<std::int64_t>(i),
                             "link " + std::to_string(i) + ": tail node " + std::to_string(tail[i]) +
                                 " is outside [0, " + std::to_string(num_nodes) + ")");
        if (head[i] < 0 || head[i] >= num_nodes)
            throw InputError("head", static_cast<std::int64_t>(i),
                             "link " + std::to_string(i) + ": head node " + std::to_string(head[i]) +
                                 " is outside [0, " + std::to_string(num_nodes) + ")");
    }
}

void build_star(index_t num_nodes, Span<const index_t> key, Span<const index_t> other_end,
                Span<index_t> first, Span<index_t> link, Span<index_t> other) {
    const std::size_t m = key.size();
    if (first.size() != static_cast<std::size_t>(num_nodes) + 1 || link.size() != m ||
        other.size() != m || other_end.size() != m)
        throw InputError("first", -1, "build_star: output arrays have the wrong length");
    std::fill(first.begin(), first.end(), 0);
    for (std::size_t i = 0; i < m; ++i) ++first[static_cast<std::size_t>(key[i]) + 1];
    for (index_t v = 0; v < num_nodes; ++v) first[v + 1] += first[v];
    // Stable placement: a cursor per node, links visited in increasing order.
    std::vector<index_t> cursor(first.begin(), first.end() - 1);
    for (std::size_t i = 0; i < m; ++i) {
        const index_t pos = cursor[static_cast<std::size_t>(key[i])]++;
        link[pos] = static_cast<index_t>(i);
        other[pos] = other_end[i];
    }
}

Graph Graph::from_links(index_t num_nodes, std::vector<index_t> tail, std::vector<index_t> head) {
    validate_links(num_nodes, tail, head);
    Graph g;
    g.num_nodes = num_nodes;
    g.tail = std::move(tail);
    g.head = std::move(head);
    const std::size_t m = g.tail.size(), n1 = static_cast<std::size_t>(num_nodes) + 1;
    g.fs_first.resize(n1);
    g.fs_link.resize(m);
    g.fs_head.resize(m);
    g.bs_first.resize(n1);
    g.bs_link.resize(m);
    g.bs_tail.resize(m);
    build_star(num_nodes, g.tail, g.head, g.fs_first, g.fs_link, g.fs_head);
    build_star(num_nodes, g.head, g.tail, g.bs_first, g.bs_link, g.bs_tail);
    return g;
}

namespace {
index_t find_root(std::vector<index_t>& parent, index_t v) {
    while (parent[v] != v) {
        parent[v] = parent[parent[v]];  // path halving
        v = parent[v];
    }
    return v;
}
}  // namespace

index_t weak_components(index_t num_nodes, Span<const index_t> tail, Span<const index_t> head,
                        Span<index_t> label) {
    validate_links(num_nodes, tail, head);
    if (label.size() != static_cast<std::size_t>(num_nodes))
        throw InputError("label", -1, "label must have num_nodes entries");
    std::vector<index_t> parent(static_cast<std::size_t>(num_nodes));
    std::iota(parent.begin(), parent.end(), 0);
    for (std::size_t i = 0; i < tail.size(); ++i) {
        index_t a = find_root(parent, tail[i]), b = find_root(parent, head[i]);
        if (a == b) continue;
        if (a < b) parent[b] = a; else parent[a] = b;  // smallest index becomes the root
    }
    index_t count = 0;
    for (index_t v = 0; v < num_nodes; ++v) {
        label[v] = find_root(parent, v);
        if (label[v] == v) ++count;
    }
    return count;
}

index_t strong_components(StarView forward, StarView reverse, Span<index_t> label) {
    const index_t n = forward.num_nodes();
    if (reverse.num_nodes() != n || label.size() != static_cast<std::size_t>(n))
        throw InputError("label", -1, "strong_components: sizes differ");
    // Pass 1: post-order of an iterative DFS on the forward star.
    std::vector<index_t> order;
    order.reserve(static_cast<std::size_t>(n));
    std::vector<char> seen(static_cast<std::size_t>(n), 0);
    std::vector<std::pair<index_t, index_t>> stack;  // (node, next edge position)
    for (index_t s = 0; s < n; ++s) {
        if (seen[s]) continue;
        seen[s] = 1;
        stack.emplace_back(s, forward.first[s]);
        while (!stack.empty()) {
            auto& [v, pos] = stack.back();
            if (pos < forward.first[v + 1]) {
                const index_t w = forward.other[pos++];
                if (!seen[w]) {
                    seen[w] = 1;
                    stack.emplace_back(w, forward.first[w]);
                }
            } else {
                order.push_back(v);
                stack.pop_back();
            }
        }
    }
    // Pass 2: DFS on the reverse star in decreasing post-order; each tree is one component.
    std::fill(label.begin(), label.end(), kInvalidIndex);
    std::vector<index_t> members, todo;
    index_t count = 0;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        if (label[*it] != kInvalidIndex) continue;
        members.clear();
        todo.assign(1, *it);
        label[*it] = *it;
        index_t smallest = *it;
        while (!todo.empty()) {
            const index_t v = todo.back();
            todo.pop_back();
            members.push_back(v);
            smallest = std::min(smallest, v);
            for (index_t p = reverse.first[v]; p < reverse.first[v + 1]; ++p) {
                const index_t w = reverse.other[p];
                if (label[w] == kInvalidIndex) {
                    label[w] = *it;
                    todo.push_back(w);
                }
            }
        }
        for (index_t v : members) label[v] = smallest;
        ++count;
    }
    return count;
}

}  // namespace smartcore
