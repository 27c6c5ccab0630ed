// Dijkstra trees, matrices and paths against Bellman-Ford on random multigraphs (parallel links,
// self loops, zero-cost links, disconnected parts, zones), plus input validation.
#include <algorithm>
#include <random>

#include "check.hpp"
#include "random_graphs.hpp"
#include "smartcore/routing.hpp"

using namespace smartcore;
using namespace routing_test;

namespace {

// Every predecessor link enters its node, leaves a node of the tree, and is tight.
void check_tree(const Case& c, index_t origin, const std::vector<double>& d, const std::vector<index_t>& pred) {
    for (index_t v = 0; v < c.g.num_nodes; ++v) {
        if (v == origin || d[v] == kInf) {
            CHECK(pred[v] == kInvalidIndex);
            continue;
        }
        const index_t l = pred[v];
        CHECK(l >= 0 && l < c.g.num_links());
        if (l < 0) continue;
        CHECK(c.g.head[l] == v);
        const index_t u = c.g.tail[l];
        CHECK(u == origin || u >= c.first_thru);
        CHECK(d[u] + c.w[l] == d[v]);  // the search computed d[v] by exactly this sum
    }
}

}  // namespace

TEST_CASE("trees equal Bellman-Ford on random multigraphs, for every graph type") {
    std::mt19937 rng(2024);
    for (int trial = 0; trial < 300; ++trial) {
        const bool real = trial % 2 == 1;
        Case c = random_case(rng, 30, 90, real);  // integer weights (exact sums) unless real
        const index_t n = c.g.num_nodes;
        const LinkWeightView view(c.g.forward(), c.w, c.first_thru);
        const RoutingGraph in_order(c.g.forward(), c.w, c.first_thru, RoutingGraph::Order::kInput);
        const RoutingGraph local(c.g.forward(), c.w, c.first_thru, RoutingGraph::Order::kLocality);
        DijkstraQuery q;  // reused across graphs and origins: exercises the stamps
        std::vector<double> d(n), dref(n);
        std::vector<index_t> pred(n), pref(n);
        for (index_t o = 0; o < n; ++o) {
            const auto expect = bellman_ford(c, o);
            shortest_path_tree(view, q, o, {}, kInf, d, pred);
            for (index_t v = 0; v < n; ++v) CHECK(real ? near(d[v], expect[v]) : d[v] == expect[v]);
            check_tree(c, o, d, pred);
            shortest_path_tree(in_order, q, o, {}, kInf, d, pred);
            for (index_t v = 0; v < n; ++v) CHECK(real ? near(d[v], expect[v]) : d[v] == expect[v]);
            check_tree(c, o, d, pred);
            shortest_path_tree(local, q, o, {}, kInf, d, pred);
            for (index_t v = 0; v < n; ++v) CHECK(real ? near(d[v], expect[v]) : d[v] == expect[v]);
            check_tree(c, o, d, pred);
            reference_dijkstra(c.g.forward(), c.w, c.first_thru, o, dref, pref);
            for (index_t v = 0; v < n; ++v) CHECK(real ? near(dref[v], expect[v]) : dref[v] == expect[v]);
            check_tree(c, o, dref, pref);
        }
    }
}

TEST_CASE("targets and radius stop the search early but settle what they promise") {
    std::mt19937 rng(99);
    for (int trial = 0; trial < 200; ++trial) {
        Case c = random_case(rng, 30, 90);
        const index_t n = c.g.num_nodes;
        const RoutingGraph g(c.g.forward(), c.w, c.first_thru);
        DijkstraQuery q(n);
        std::vector<double> d(n);
        std::vector<index_t> pred(n);
        const index_t o = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        const auto expect = bellman_ford(c, o);
        const std::vector<index_t> targets = random_nodes(rng, 3, n);
        shortest_path_tree(g, q, o, targets, kInf, d, pred);
        double far = 0;
        for (index_t t : targets) {
            CHECK(near(d[t], expect[t]));
            far = std::max(far, expect[t]);
        }
        for (index_t v = 0; v < n; ++v) {
            CHECK(d[v] == kInf || near(d[v], expect[v]));   // settled nodes are exact
            if (expect[v] < far) CHECK(near(d[v], expect[v]));  // everything cheaper is settled
        }
        check_tree(c, o, d, pred);
        const double radius = std::uniform_real_distribution<double>(0.0, 15.0)(rng);
        shortest_path_tree(g, q, o, {}, radius, d, pred);
        for (index_t v = 0; v < n; ++v) CHECK(d[v] == (expect[v] <= radius ? expect[v] : kInf));
        check_tree(c, o, d, pred);
    }
}

TEST_CASE("zone origins are expanded, other zones are never passed through") {
    // 0 and 1 are zones; 0 -> 1 -> 2 costs 2, 0 -> 3 -> 2 costs 10.
    Graph g = Graph::from_links(4, {0, 1, 0, 3}, {1, 2, 3, 2});
    std::vector<double> w{1, 1, 5, 5};
    DijkstraQuery q;
    std::vector<double> d(4);
    std::vector<index_t> pred(4);
    shortest_path_tree(RoutingGraph(g.forward(), w, 2), q, 0, {}, kInf, d, pred);
    CHECK((d == std::vector<double>{0, 1, 10, 5}));
    shortest_path_tree(RoutingGraph(g.forward(), w, 0), q, 0, {}, kInf, d, pred);
    CHECK((d == std::vector<double>{0, 1, 2, 5}));
    shortest_path_tree(RoutingGraph(g.forward(), w, 2), q, 1, {}, kInf, d, pred);  // zone origin
    CHECK((d == std::vector<double>{kInf, 0, 1, kInf}));
}

TEST_CASE("distance matrix equals trees and does not depend on the thread count") {
    std::mt19937 rng(5);
    for (int trial = 0; trial < 60; ++trial) {
        Case c = random_case(rng, 30, 90);
        const index_t n = c.g.num_nodes;
        const RoutingGraph g(c.g.forward(), c.w, c.first_thru);
        const std::vector<index_t> origins = random_nodes(rng, 7, n), targets = random_nodes(rng, 5, n);
        std::vector<double> m1(origins.size() * targets.size()), m3(m1.size());
        DijkstraPool pool;
        distance_matrix(g, origins, targets, m1, 1, {}, &pool);
        distance_matrix(g, origins, targets, m3, 3, {}, &pool);
        CHECK(m1 == m3);
        check_matrix(c, origins, targets, m1);
    }
}

TEST_CASE("batched paths are valid, cost their distance, and do not depend on threads") {
    std::mt19937 rng(77);
    for (int trial = 0; trial < 80; ++trial) {
        Case c = random_case(rng, 30, 90);
        const index_t n = c.g.num_nodes;
        const RoutingGraph g(c.g.forward(), c.w, c.first_thru);
        std::vector<index_t> o, d;
        for (int k = 0; k < 20; ++k) {
            o.push_back(static_cast<index_t>(rng() % static_cast<unsigned>(std::min<index_t>(n, 4))));  // shared origins
            d.push_back(static_cast<index_t>(rng() % static_cast<unsigned>(n)));
        }
        const PathBatch a = shortest_paths(g, o, d, 1);
        const PathBatch b = shortest_paths(g, o, d, 4);
        CHECK(a.cost == b.cost);
        CHECK(a.offsets == b.offsets);
        CHECK(a.links == b.links);
        for (std::size_t i = 0; i < o.size(); ++i) {
            CHECK(near(a.cost[i], bellman_ford(c, o[i])[d[i]]));
            check_path(c, o[i], d[i], a.cost[i], path_of(a, i));
        }
    }
}

TEST_CASE("bad input raises InputError naming the field") {
    Graph g = Graph::from_links(3, {0, 1}, {1, 2});
    auto field_of = [](auto&& fn) -> std::string {
        try {
            fn();
        } catch (const InputError& e) {
            return e.field() + "#" + std::to_string(e.index());
        }
        return "no error";
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> w_nan{1, nan}, w_neg{-1, 1}, w_inf{1, kInf}, w_short{1}, w{1, 1};
    CHECK(field_of([&] { RoutingGraph(g.forward(), w_nan, 0); }) == "weight#1");
    CHECK(field_of([&] { RoutingGraph(g.forward(), w_neg, 0); }) == "weight#0");
    CHECK(field_of([&] { RoutingGraph(g.forward(), w_inf, 0); }) == "weight#1");
    CHECK(field_of([&] { LinkWeightView(g.forward(), w_short, 0); }) == "weight#-1");
    CHECK(field_of([&] { RoutingGraph(g.forward(), w, 4); }) == "first_thru_node#-1");
    CHECK(field_of([&] { RoutingGraph(g.forward(), w, 0).with_weight(w_nan); }) == "weight#1");
    const RoutingGraph rg(g.forward(), w, 0);
    DijkstraQuery q;
    std::vector<double> d(3);
    std::vector<index_t> p(3);
    CHECK(field_of([&] { shortest_path_tree(rg, q, 3, {}, kInf, d, p); }) == "origin#0");
    CHECK(field_of([&] { shortest_path_tree(rg, q, -1, {}, kInf, d, p); }) == "origin#0");
    std::vector<index_t> bad_targets{0, 7};
    CHECK(field_of([&] { shortest_path_tree(rg, q, 0, bad_targets, kInf, d, p); }) == "targets#1");
    CHECK(field_of([&] { shortest_path_tree(rg, q, 0, {}, nan, d, p); }) == "radius#-1");
    std::vector<double> short_d(2);
    CHECK(field_of([&] { shortest_path_tree(rg, q, 0, {}, kInf, short_d, p); }) == "dist#-1");
    std::vector<index_t> o{0, 1}, dd{2};
    CHECK(field_of([&] { shortest_paths(rg, o, dd, 1); }) == "destinations#-1");
    std::vector<double> out(4);
    std::vector<index_t> bad_o{0, 5};
    CHECK(field_of([&] { distance_matrix(rg, bad_o, o, out, 1); }) == "origins#1");
}

TEST_CASE("cancellation through the progress callback") {
    Graph g = Graph::from_links(3, {0, 1}, {1, 2});
    std::vector<double> w{1, 1};
    const RoutingGraph rg(g.forward(), w, 0);
    std::vector<index_t> o(100, 0), t{2};
    std::vector<double> out(100);
    CHECK_THROWS(distance_matrix(rg, o, t, out, 2, [](std::int64_t, std::int64_t) { return false; }), Cancelled);
}

TEST_CASE("a grid: distances are Manhattan distances") {
    const index_t side = 60;
    const Case net = grid(side);
    const RoutingGraph rg(net.g.forward(), net.w, 0);
    DijkstraQuery q;
    std::vector<double> d(side * side);
    std::vector<index_t> p(side * side);
    shortest_path_tree(rg, q, side + 1, {}, kInf, d, p);
    for (index_t r = 0; r < side; ++r)
        for (index_t c = 0; c < side; ++c) CHECK(d[r * side + c] == std::abs(r - 1) + std::abs(c - 1));
}

CHECK_MAIN()
