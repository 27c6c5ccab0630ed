// Turn penalties and bans (TurnGraph, edge-based Dijkstra) against Bellman-Ford on an explicitly
// built line graph, and against node-based Dijkstra when no turn is restricted.
#include <algorithm>
#include <random>

#include "check.hpp"
#include "random_graphs.hpp"
#include "smartcore/routing.hpp"

using namespace smartcore;
using routing_test::near;

namespace {

struct Turns {
    std::vector<index_t> from, to;
    std::vector<double> penalty;
};

struct Case : routing_test::Case {
    Turns turns;
};

// A small random multigraph (no forced self loops) with random turns among the pairs of links
// that meet: bans, zero and positive penalties, some listed twice.
Case random_case(std::mt19937& rng) {
    Case c{routing_test::random_case(rng, 12, 40, true, false), {}};
    const index_t m = c.g.num_links();
    for (index_t a = 0; a < m; ++a)
        for (index_t b = 0; b < m; ++b) {
            if (c.g.head[a] != c.g.tail[b] || rng() % 3 != 0) continue;
            const int kind = static_cast<int>(rng() % 3);
            const double p = kind == 0 ? kInf : kind == 1 ? 0.0 : std::uniform_real_distribution<double>(0.0, 5.0)(rng);
            const int copies = rng() % 6 == 0 ? 2 : 1;
            for (int k = 0; k < copies; ++k) {
                c.turns.from.push_back(a);
                c.turns.to.push_back(b);
                c.turns.penalty.push_back(k == 0 ? p : std::uniform_real_distribution<double>(0.0, 5.0)(rng));
            }
        }
    return c;
}

// Penalty of turn a -> b (max over duplicates; 0 when absent).
double penalty(const Case& c, index_t a, index_t b) {
    double p = 0.0;
    bool found = false;
    for (std::size_t i = 0; i < c.turns.from.size(); ++i)
        if (c.turns.from[i] == a && c.turns.to[i] == b) {
            p = found ? std::max(p, c.turns.penalty[i]) : c.turns.penalty[i];
            found = true;
        }
    return p;
}

// Bellman-Ford on the line graph: link labels, then node costs as the minimum over entering links.
std::vector<double> brute_force(const Case& c, index_t origin) {
    const index_t m = c.g.num_links();
    std::vector<double> link(static_cast<std::size_t>(m), kInf);
    for (index_t b = 0; b < m; ++b)
        if (c.g.tail[b] == origin) link[b] = c.w[b];
    for (bool changed = true; changed;) {
        changed = false;
        for (index_t a = 0; a < m; ++a) {
            if (link[a] == kInf || c.g.head[a] < c.first_thru) continue;
            for (index_t b = 0; b < m; ++b) {
                if (c.g.tail[b] != c.g.head[a]) continue;
                const double nd = link[a] + penalty(c, a, b) + c.w[b];
                if (nd < link[b]) {
                    link[b] = nd;
                    changed = true;
                }
            }
        }
    }
    std::vector<double> node(static_cast<std::size_t>(c.g.num_nodes), kInf);
    node[origin] = 0.0;
    for (index_t a = 0; a < m; ++a) node[c.g.head[a]] = std::min(node[c.g.head[a]], link[a]);
    return node;
}

}  // namespace

TEST_CASE("edge-based search equals Bellman-Ford on the line graph, paths included") {
    std::mt19937 rng(17);
    for (int trial = 0; trial < 400; ++trial) {
        const Case c = random_case(rng);
        const index_t n = c.g.num_nodes;
        const TurnGraph tg(c.g.forward(), c.w, c.first_thru, c.turns.from, c.turns.to, c.turns.penalty);
        TurnQuery q(n);
        std::vector<double> dist(static_cast<std::size_t>(n));
        std::vector<index_t> pred(static_cast<std::size_t>(n));
        for (index_t o = 0; o < n; ++o) {
            const auto expect = brute_force(c, o);
            shortest_path_tree(tg, q, o, {}, kInf, dist, pred);
            for (index_t v = 0; v < n; ++v) {
                CHECK(near(dist[v], expect[v]));
                if (dist[v] == kInf || v == o) {
                    CHECK(pred[v] == kInvalidIndex);
                } else {
                    CHECK(pred[v] >= 0 && c.g.head[pred[v]] == v);
                }
            }
            // paths: consecutive links, no banned turn, cost = weights + penalties
            std::vector<index_t> origins(static_cast<std::size_t>(n), o), dests(static_cast<std::size_t>(n));
            for (index_t v = 0; v < n; ++v) dests[v] = v;
            const PathBatch b = shortest_paths(tg, origins, dests, 2);
            for (index_t v = 0; v < n; ++v) {
                CHECK(near(b.cost[v], expect[v]));
                double sum = 0;
                index_t at = o, prev = kInvalidIndex;
                for (std::int64_t k = b.offsets[v]; k < b.offsets[v + 1]; ++k) {
                    const index_t l = b.links[k];
                    CHECK(c.g.tail[l] == at);
                    CHECK(at == o || at >= c.first_thru);
                    if (prev != kInvalidIndex) sum += penalty(c, prev, l);
                    sum += c.w[l];
                    at = c.g.head[l];
                    prev = l;
                }
                if (expect[v] != kInf) {
                    CHECK(at == v);
                    CHECK(near(sum, expect[v]));
                } else {
                    CHECK(b.offsets[v] == b.offsets[v + 1]);
                }
            }
            std::vector<double> mat(static_cast<std::size_t>(n));
            const index_t one[] = {o};
            distance_matrix(tg, Span<const index_t>(one, 1), dests, mat, 1);
            for (index_t v = 0; v < n; ++v) CHECK(near(mat[v], expect[v]));
        }
    }
}

TEST_CASE("without turns the edge-based search equals Dijkstra; targets and radius stop it") {
    std::mt19937 rng(5);
    for (int trial = 0; trial < 200; ++trial) {
        Case c = random_case(rng);
        const index_t n = c.g.num_nodes;
        const TurnGraph tg(c.g.forward(), c.w, c.first_thru, {}, {}, {});
        TurnQuery q(n);
        std::vector<double> dist(static_cast<std::size_t>(n)), ref(dist);
        std::vector<index_t> pred(static_cast<std::size_t>(n)), rpred(pred);
        for (index_t o = 0; o < n; ++o) {
            reference_dijkstra(c.g.forward(), c.w, c.first_thru, o, ref, rpred);
            shortest_path_tree(tg, q, o, {}, kInf, dist, pred);
            for (index_t v = 0; v < n; ++v) CHECK(near(dist[v], ref[v]));
            const double radius = std::uniform_real_distribution<double>(0.0, 15.0)(rng);
            shortest_path_tree(tg, q, o, {}, radius, dist, pred);
            for (index_t v = 0; v < n; ++v) CHECK(ref[v] <= radius ? near(dist[v], ref[v]) : dist[v] == kInf);
            const index_t target = static_cast<index_t>(rng() % static_cast<unsigned>(n));
            const index_t targets[] = {target};
            shortest_path_tree(tg, q, o, Span<const index_t>(targets, 1), kInf, dist, pred);
            CHECK(near(dist[target], ref[target]));
            for (index_t v = 0; v < n; ++v) CHECK(dist[v] == kInf || near(dist[v], ref[v]));
        }
        // a new weight keeps the topology
        for (double& x : c.w) x += 1.0;
        const TurnGraph tg2 = tg.with_weight(c.w);
        reference_dijkstra(c.g.forward(), c.w, c.first_thru, 0, ref, rpred);
        shortest_path_tree(tg2, q, 0, {}, kInf, dist, pred);
        for (index_t v = 0; v < n; ++v) CHECK(near(dist[v], ref[v]));
    }
}

TEST_CASE("a banned left turn forces a detour; bad turns raise InputError") {
    //   0 -> 1 -> 2 (straight: links 0, 1); 1 -> 3 (left: link 2); 2 -> 4 -> 3 (detour: 3, 4)
    Graph g = Graph::from_links(5, {0, 1, 1, 2, 4}, {1, 2, 3, 4, 3});
    std::vector<double> w{1, 1, 1, 1, 1};
    std::vector<index_t> from{0}, to{2};
    std::vector<double> ban{kInf}, pen{0.5};
    TurnQuery q(5);
    std::vector<double> dist(5);
    std::vector<index_t> pred(5);
    shortest_path_tree(TurnGraph(g.forward(), w, 0, from, to, ban), q, 0, {}, kInf, dist, pred);
    CHECK(dist[3] == 4.0 && pred[3] == 4);
    shortest_path_tree(TurnGraph(g.forward(), w, 0, from, to, pen), q, 0, {}, kInf, dist, pred);
    CHECK(dist[3] == 2.5 && pred[3] == 2);
    std::vector<index_t> bad_to{3}, out_of_range{9};
    std::vector<double> nan{std::numeric_limits<double>::quiet_NaN()}, neg{-1.0};
    CHECK_THROWS(TurnGraph(g.forward(), w, 0, from, bad_to, ban), InputError);  // 1 -> 3 is not 2 -> 4
    CHECK_THROWS(TurnGraph(g.forward(), w, 0, from, out_of_range, ban), InputError);
    CHECK_THROWS(TurnGraph(g.forward(), w, 0, from, to, nan), InputError);
    CHECK_THROWS(TurnGraph(g.forward(), w, 0, from, to, neg), InputError);
    CHECK_THROWS(TurnGraph(g.forward(), w, 0, from, to, {}), InputError);
}

CHECK_MAIN()
