// Test networks for the routing tests (random multigraphs and grids) and the brute-force answers
// they are checked against.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "check.hpp"
#include "smartcore/graph.hpp"
#include "smartcore/routing.hpp"

namespace routing_test {

using smartcore::Graph;
using smartcore::index_t;
using smartcore::kInf;

// A network, its link weights and its zones (nodes below first_thru).
struct Case {
    Graph g;
    std::vector<double> w;
    index_t first_thru = 0;
};

// Random multigraph with 1..max_nodes nodes and fewer than max_links links: parallel links, a tenth
// of them self loops (unless !self_loops: heads drawn like tails), a fifth of the weights zero,
// the others uniform in [0, 10) or, unless `real`, integers 0..9 (exact sums, so distances compare
// exactly), and zones in a third of the cases.
inline Case random_case(std::mt19937& rng, index_t max_nodes = 30, std::size_t max_links = 100, bool real = true,
                        bool self_loops = true) {
    const index_t n = 1 + static_cast<index_t>(rng() % static_cast<unsigned>(max_nodes));
    const std::size_t m = rng() % max_links;
    std::vector<index_t> t(m), h(m);
    std::vector<double> w(m);
    for (std::size_t i = 0; i < m; ++i) {
        t[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        h[i] = self_loops && rng() % 10 == 0 ? t[i] : static_cast<index_t>(rng() % static_cast<unsigned>(n));
        w[i] = rng() % 5 == 0 ? 0.0
               : real         ? std::uniform_real_distribution<double>(0.0, 10.0)(rng)
                              : static_cast<double>(rng() % 10);
    }
    const index_t first_thru = rng() % 3 == 0 ? static_cast<index_t>(rng() % static_cast<unsigned>(n + 1)) : 0;
    return Case{Graph::from_links(n, t, h), w, first_thru};
}

// `count` random node ids below n.
inline std::vector<index_t> random_nodes(std::mt19937& rng, int count, index_t n) {
    std::vector<index_t> nodes;
    for (int k = 0; k < count; ++k) nodes.push_back(static_cast<index_t>(rng() % static_cast<unsigned>(n)));
    return nodes;
}

// side x side grid, links both ways between neighbours, weight 1, no zones.
inline Case grid(index_t side) {
    std::vector<index_t> t, h;
    for (index_t r = 0; r < side; ++r)
        for (index_t c = 0; c < side; ++c) {
            const index_t v = r * side + c;
            if (c + 1 < side) { t.push_back(v); h.push_back(v + 1); t.push_back(v + 1); h.push_back(v); }
            if (r + 1 < side) { t.push_back(v); h.push_back(v + side); t.push_back(v + side); h.push_back(v); }
        }
    std::vector<double> w(t.size(), 1.0);
    return Case{Graph::from_links(side * side, t, h), w, 0};
}

// Bellman-Ford with the zones rule: only the origin and nodes >= first_thru relax their links.
inline std::vector<double> bellman_ford(const Case& c, index_t origin) {
    std::vector<double> d(static_cast<std::size_t>(c.g.num_nodes), kInf);
    d[origin] = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (index_t i = 0; i < c.g.num_links(); ++i) {
            const index_t a = c.g.tail[i], b = c.g.head[i];
            if (a < c.first_thru && a != origin) continue;
            if (d[a] + c.w[i] < d[b]) {
                d[b] = d[a] + c.w[i];
                changed = true;
            }
        }
    }
    return d;
}

inline bool near(double a, double b) { return a == b || std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

// The path joins o to d link by link, crosses no zone, and costs `cost` (no links when
// unreachable or o == d).
inline void check_path(const Case& c, index_t o, index_t d, double cost, const std::vector<index_t>& links) {
    if (cost == kInf || o == d) {
        CHECK(links.empty());
        return;
    }
    index_t at = o;
    double sum = 0;
    for (index_t l : links) {
        CHECK(l >= 0 && l < c.g.num_links());
        if (l < 0 || l >= c.g.num_links()) return;
        CHECK(c.g.tail[l] == at);
        CHECK(at == o || at >= c.first_thru);
        sum += c.w[l];
        at = c.g.head[l];
    }
    CHECK(at == d);
    CHECK(near(sum, cost));
}

// m, row-major origins x targets, against Bellman-Ford.
inline void check_matrix(const Case& c, const std::vector<index_t>& origins, const std::vector<index_t>& targets,
                         const std::vector<double>& m) {
    for (std::size_t i = 0; i < origins.size(); ++i) {
        const auto expect = bellman_ford(c, origins[i]);
        for (std::size_t j = 0; j < targets.size(); ++j) CHECK(near(m[i * targets.size() + j], expect[targets[j]]));
    }
}

// Path i of a batch (its links).
inline std::vector<index_t> path_of(const smartcore::PathBatch& b, std::size_t i) {
    return std::vector<index_t>(b.links.begin() + b.offsets[i], b.links.begin() + b.offsets[i + 1]);
}

}  // namespace routing_test
