// Contraction hierarchies (classic in greedy or nested dissection order, and customisable) against
// Bellman-Ford and Dijkstra: distances, paths, bucket matrices, zones rule, re-customisation,
// determinism and validation.
#include <algorithm>
#include <random>
#include <set>

#include "check.hpp"
#include "random_graphs.hpp"
#include "smartcore/ch.hpp"

using namespace smartcore;
using namespace routing_test;

namespace {

// Every pair of `h` against Bellman-Ford, with a valid path whose links cost the distance.
void check_all_pairs(const Case& c, const Hierarchy& h) {
    ChQuery q(h.topo->num_ranks());
    const index_t n = c.g.num_nodes;
    for (index_t o = 0; o < n; ++o) {
        const auto expect = bellman_ford(c, o);
        for (index_t d = 0; d < n; ++d) {
            std::vector<index_t> links;
            const double a = q.shortest_path(h, o, d, &links);
            CHECK(near(a, expect[d]));
            check_path(c, o, d, a, links);
        }
    }
}

}  // namespace

TEST_CASE("RankQueue pops in increasing rank, like an ordered set") {
    // Sizes around the bitset's word (64) and level (4096, 262144) boundaries.
    std::mt19937 rng(5);
    for (index_t n : {1, 2, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 262145, 300000}) {
        RankQueue q;
        q.resize(n);
        for (int round = 0; round < 20; ++round) {
            std::set<index_t> expect;
            std::vector<index_t> pushed;
            index_t last = -1;  // pushes must lie above the last pop
            std::uniform_int_distribution<int> ops(0, 3);
            for (int step = 0; step < 400; ++step) {
                if (last + 1 < n && (expect.empty() || ops(rng) != 0)) {
                    // Clustered or spread pushes, duplicates included.
                    const index_t span = std::min<index_t>(n - last - 1, step % 2 ? 100 : n);
                    const index_t v = last + 1 + std::uniform_int_distribution<index_t>(0, span - 1)(rng);
                    q.push(v);
                    expect.insert(v);
                    pushed.push_back(v);
                } else if (!expect.empty()) {
                    CHECK(!q.empty());
                    const index_t v = q.pop();
                    CHECK(v == *expect.begin());
                    expect.erase(expect.begin());
                    last = v;
                }
                CHECK(q.empty() == expect.empty());
            }
            if (round % 2 == 0) {
                q.clear(pushed);  // abandon what is left (a search stopped early)
            } else {
                while (!expect.empty()) {
                    CHECK(q.pop() == *expect.begin());
                    expect.erase(expect.begin());
                }
                q.clear(pushed);
            }
            CHECK(q.empty());
        }
        // Cleared for real: a fresh push of the lowest rank comes out first and alone.
        q.push(0);
        CHECK(q.pop() == 0);
        CHECK(q.empty());
    }
}

TEST_CASE("classic and customisable CH answer like Bellman-Ford, paths included") {
    std::mt19937 rng(31);
    for (int trial = 0; trial < 300; ++trial) {
        Case c = random_case(rng);
        ChOptions opt;
        opt.witness_settle_limit = trial % 3 == 0 ? 1 : 500;  // tiny limit: extra shortcuts, same answers
        check_all_pairs(c, build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru, opt));
        check_all_pairs(c, CustomizableCH(c.g.forward(), c.first_thru).customize(c.w));
    }
}

TEST_CASE("bucket matrices equal Bellman-Ford and do not depend on threads") {
    std::mt19937 rng(8);
    for (int trial = 0; trial < 100; ++trial) {
        Case c = random_case(rng);
        const index_t n = c.g.num_nodes;
        const Hierarchy ch = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru);
        const Hierarchy cc = CustomizableCH(c.g.forward(), c.first_thru).customize(c.w);
        const std::vector<index_t> o = random_nodes(rng, 9, n), t = random_nodes(rng, 7, n);
        for (const Hierarchy* h : {&ch, &cc}) {
            std::vector<double> m1(o.size() * t.size()), m3(m1.size());
            ChPool pool;
            distance_matrix(*h, o, t, m1, 1, {}, &pool);
            distance_matrix(*h, o, t, m3, 3, {}, &pool);
            CHECK(m1 == m3);
            check_matrix(c, o, t, m1);
            std::vector<index_t> rev(o.rbegin(), o.rend());
            const PathBatch a = shortest_paths(*h, o, rev, 1);
            const PathBatch b = shortest_paths(*h, o, rev, 3);
            CHECK(a.cost == b.cost && a.offsets == b.offsets && a.links == b.links);
            for (std::size_t i = 0; i < o.size(); ++i) {
                const index_t d = o[o.size() - 1 - i];
                CHECK(near(a.cost[i], bellman_ford(c, o[i])[d]));
                check_path(c, o[i], d, a.cost[i], path_of(a, i));
            }
        }
    }
}

TEST_CASE("bucket matrices with many targets (dense bucket rows) and path costs") {
    std::mt19937 rng(12);
    for (int trial = 0; trial < 40; ++trial) {
        Case c = random_case(rng, 60, 240);
        const index_t n = c.g.num_nodes;
        const Hierarchy ch = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru);
        const Hierarchy cc = CustomizableCH(c.g.forward(), c.first_thru).customize(c.w);
        const std::vector<index_t> o = random_nodes(rng, 20, n), t = random_nodes(rng, 70, n);
        std::vector<std::vector<double>> expect;
        for (index_t x : o) expect.push_back(bellman_ford(c, x));
        for (const Hierarchy* h : {&ch, &cc}) {
            std::vector<double> m1(o.size() * t.size()), m2(m1.size());
            distance_matrix(*h, o, t, m1, 1);
            distance_matrix(*h, o, t, m2, 2);
            CHECK(m1 == m2);
            check_matrix(c, o, t, m1);
            std::vector<index_t> d(o.size());
            for (std::size_t i = 0; i < o.size(); ++i) d[i] = t[i];
            std::vector<double> costs(o.size());
            shortest_path_costs(*h, o, d, costs, 2);
            const PathBatch b = shortest_paths(*h, o, d, 1);
            CHECK(costs == b.cost);
            for (std::size_t i = 0; i < o.size(); ++i) CHECK(near(costs[i], expect[i][d[i]]));
        }
    }
}

TEST_CASE("PHAST trees equal Bellman-Ford; their predecessors are a tree of tight links") {
    std::mt19937 rng(21);
    int trees = 0, refused = 0;
    for (int trial = 0; trial < 200; ++trial) {
        Case c = random_case(rng, 40, 150);
        const index_t n = c.g.num_nodes;
        const Hierarchy ch = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru);
        const Hierarchy cc = CustomizableCH(c.g.forward(), c.first_thru).customize(c.w);
        const RoutingGraph rg(c.g.forward(), c.w, c.first_thru);
        ChQuery q;
        std::vector<double> dist(static_cast<std::size_t>(n));
        std::vector<index_t> pred(static_cast<std::size_t>(n));
        for (index_t o = 0; o < n; ++o) {
            const auto expect = bellman_ford(c, o);
            for (const Hierarchy* h : {&ch, &cc}) {
                const bool ok = phast_tree(*h, q, o, rg, dist, pred);
                for (index_t v = 0; v < n; ++v) CHECK(near(dist[v], expect[v]));
                if (!ok) {
                    ++refused;
                    continue;
                }
                ++trees;
                CHECK(pred[o] == kInvalidIndex);
                for (index_t v = 0; v < n; ++v) {
                    if (v == o || expect[v] == kInf) {
                        CHECK(v == o || pred[v] == kInvalidIndex);
                        continue;
                    }
                    const index_t l = pred[v];
                    CHECK(l >= 0 && c.g.head[l] == v);
                    const index_t u = c.g.tail[l];
                    CHECK(u == o || u >= c.first_thru);
                    CHECK(near(expect[u] + c.w[l], expect[v]));
                }
            }
        }
    }
    CHECK(trees > 1000);
    CHECK(refused == 0);  // zero-cost cycles (frequent here) included
    Graph g = Graph::from_links(3, {0, 1}, {1, 2});
    std::vector<double> w{1, 1}, d(3);
    std::vector<index_t> p(3);
    const Hierarchy h = build_contraction_hierarchy(g.forward(), w, 0);
    ChQuery q;
    const RoutingGraph rg(g.forward(), w, 0);
    CHECK(phast_tree(h, q, 0, rg, d, p));
    CHECK(d == std::vector<double>({0, 1, 2}) && p == std::vector<index_t>({-1, 0, 1}));
    std::vector<double> d2(2), w1{1};
    CHECK_THROWS(phast_tree(h, q, 3, rg, d, p), InputError);
    CHECK_THROWS(phast_tree(h, q, 0, rg, d2, p), InputError);
    Graph other = Graph::from_links(4, {0}, {1});
    CHECK_THROWS(phast_tree(h, q, 0, RoutingGraph(other.forward(), w1, 0), d, p), InputError);
    CHECK_THROWS(phast_tree(h, q, 0, RoutingGraph(g.forward(), w, 1), d, p), InputError);
}

TEST_CASE("re-customising gives the new metric's distances") {
    std::mt19937 rng(4);
    for (int trial = 0; trial < 60; ++trial) {
        Case c = random_case(rng);
        const CustomizableCH cch(c.g.forward(), c.first_thru);
        for (int metric = 0; metric < 3; ++metric) {
            for (double& x : c.w) x = rng() % 4 == 0 ? 0.0 : std::uniform_real_distribution<double>(0.0, 5.0)(rng);
            const Hierarchy h = cch.customize(c.w);
            CHECK(h.topo == cch.topology());  // shared, not copied
            ChQuery q(h.topo->num_ranks());
            for (index_t o = 0; o < c.g.num_nodes; ++o) {
                const auto expect = bellman_ford(c, o);
                for (index_t d = 0; d < c.g.num_nodes; ++d) CHECK(near(q.shortest_path(h, o, d), expect[d]));
            }
        }
    }
}

namespace {
// A grid with random integer weights 1..100.
Case weighted_grid(index_t side, std::mt19937& rng) {
    Case c = grid(side);
    for (double& x : c.w) x = 1.0 + static_cast<double>(rng() % 100);
    return c;
}
}  // namespace

TEST_CASE("a weighted grid with zones: CH, CCH and Dijkstra agree") {
    std::mt19937 rng(2);
    Case c = weighted_grid(40, rng);
    c.first_thru = 25;  // the first row's 25 nodes are zones
    const Hierarchy ch = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru);
    const Hierarchy cc = CustomizableCH(c.g.forward(), c.first_thru).customize(c.w);
    const RoutingGraph rg(c.g.forward(), c.w, c.first_thru);
    std::vector<index_t> nodes;
    for (int k = 0; k < 40; ++k) nodes.push_back(static_cast<index_t>(rng() % 1600));
    for (index_t z = 0; z < 25; z += 3) nodes.push_back(z);
    std::vector<double> m_dij(nodes.size() * nodes.size()), m_ch(m_dij.size()), m_cc(m_dij.size());
    distance_matrix(rg, nodes, nodes, m_dij, 2);
    distance_matrix(ch, nodes, nodes, m_ch, 2);
    distance_matrix(cc, nodes, nodes, m_cc, 2);
    for (std::size_t i = 0; i < m_dij.size(); ++i) {
        CHECK(near(m_ch[i], m_dij[i]));
        CHECK(near(m_cc[i], m_dij[i]));
    }
}

TEST_CASE("a classic CH in nested dissection order answers like Bellman-Ford, deterministically") {
    std::mt19937 rng(77);
    for (int trial = 0; trial < 200; ++trial) {
        Case c = random_case(rng, 40, 150);
        const index_t n = c.g.num_nodes;
        ChOptions opt;
        opt.order = ChOrder::kDissection;
        opt.witness_settle_limit = trial % 4 == 0 ? 1 : 500;
        std::vector<double> x(static_cast<std::size_t>(n)), y(x.size());
        if (trial % 2 == 1) {  // with coordinates (geometric cuts) every other trial
            for (auto& v : x) v = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            for (auto& v : y) v = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            opt.node_x = x;
            opt.node_y = y;
        }
        const Hierarchy h = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru, opt);
        CHECK(h.topo->parent.empty());  // a classic hierarchy: searched by Dijkstra
        const Hierarchy again = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru, opt);
        CHECK(h.topo->rank == again.topo->rank && h.topo->head == again.topo->head && h.up == again.up &&
              h.down == again.down);
        check_all_pairs(c, h);
        std::vector<index_t> all(static_cast<std::size_t>(n));
        for (index_t v = 0; v < n; ++v) all[v] = v;
        std::vector<double> m(all.size() * all.size());
        distance_matrix(h, all, all, m, 2);
        check_matrix(c, all, all, m);
    }
}

TEST_CASE("grid: dissection-order CH (with and without coordinates) agrees with Dijkstra") {
    std::mt19937 rng(5);
    const index_t side = 50;
    Case c = weighted_grid(side, rng);
    c.first_thru = 30;  // zones on the first row
    std::vector<double> x, y;
    for (index_t v = 0; v < side * side; ++v) {
        x.push_back(v % side);
        y.push_back(v / side);
    }
    const RoutingGraph rg(c.g.forward(), c.w, c.first_thru);
    std::vector<index_t> nodes;
    for (int k = 0; k < 60; ++k) nodes.push_back(static_cast<index_t>(rng() % (side * side)));
    for (index_t z = 0; z < 30; z += 4) nodes.push_back(z);
    std::vector<double> expect(nodes.size() * nodes.size());
    distance_matrix(rg, nodes, nodes, expect, 2);
    for (int geometric = 0; geometric < 2; ++geometric) {
        ChOptions opt;
        opt.order = ChOrder::kDissection;
        if (geometric) {
            opt.node_x = x;
            opt.node_y = y;
        }
        const Hierarchy h = build_contraction_hierarchy(c.g.forward(), c.w, c.first_thru, opt);
        std::vector<double> m(expect.size());
        distance_matrix(h, nodes, nodes, m, 2);
        for (std::size_t i = 0; i < m.size(); ++i) CHECK(near(m[i], expect[i]));
        const std::vector<index_t> rev(nodes.rbegin(), nodes.rend());
        const PathBatch p = shortest_paths(h, nodes, rev, 2);
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const index_t d = nodes[nodes.size() - 1 - i];
            CHECK(near(p.cost[i], expect[i * nodes.size() + (nodes.size() - 1 - i)]));
            check_path(c, nodes[i], d, p.cost[i], path_of(p, i));
        }
        // Witness searches keep the hierarchy sparser than the CCH on the same order.
        const CustomizableCH cch = geometric ? CustomizableCH(c.g.forward(), c.first_thru, x, y)
                                             : CustomizableCH(c.g.forward(), c.first_thru);
        CHECK(h.topo->num_edges() < cch.topology()->num_edges());
    }
}

TEST_CASE("bad input raises InputError") {
    Graph g = Graph::from_links(3, {0, 1}, {1, 2});
    std::vector<double> w{1, std::numeric_limits<double>::quiet_NaN()}, ok{1, 1}, short_w{1};
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), w, 0), InputError);
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), ok, 5), InputError);
    ChOptions nd;
    nd.order = ChOrder::kDissection;
    std::vector<double> xy2{0, 1}, xy3{0, 1, 2}, nan3{0, std::numeric_limits<double>::infinity(), 2};
    nd.node_x = xy2;  // one value short
    nd.node_y = xy2;
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), ok, 0, nd), InputError);
    nd.node_x = xy3;  // node_y still short
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), ok, 0, nd), InputError);
    nd.node_y = nan3;
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), ok, 0, nd), InputError);
    nd.node_y = xy3;
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), w, 0, nd), InputError);  // NaN weight
    CHECK(build_contraction_hierarchy(g.forward(), ok, 0, nd).topo->num_ranks() == 3);
    nd.order = static_cast<ChOrder>(7);
    CHECK_THROWS(build_contraction_hierarchy(g.forward(), ok, 0, nd), InputError);
    const CustomizableCH cch(g.forward(), 0);
    CHECK_THROWS(cch.customize(short_w), InputError);
    CHECK_THROWS(cch.customize(w), InputError);
    const Hierarchy h = cch.customize(ok);
    std::vector<index_t> bad{0, 3}, o{0};
    std::vector<double> out(2);
    CHECK_THROWS(distance_matrix(h, o, bad, out, 1), InputError);
    CHECK_THROWS(shortest_paths(h, bad, o, 1), InputError);
    CHECK_THROWS(distance_matrix(Hierarchy{}, o, o, out, 1), InputError);
    std::vector<double> one(1);
    CHECK_THROWS(shortest_path_costs(h, bad, o, one, 1), InputError);
    CHECK_THROWS(shortest_path_costs(h, o, o, out, 1), InputError);  // out has 2 entries
}

CHECK_MAIN()
