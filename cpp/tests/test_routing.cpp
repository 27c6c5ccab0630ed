// Dijkstra trees, matrices and paths against Bellman-Ford on random multigraphs (parallel links,
// self loops, zero-cost links, disconnected parts, zones), plus input validation.
#include <algorithm>
#include <random>

#include "check.hpp"
#include "smartcore/routing.hpp"

using namespace smartcore;

namespace {

struct Case {
    Graph g;
    std::vector<double> w;
    index_t first_thru = 0;
};

// Random multigraph; integer weights (exact sums, so distances compare exactly) unless `real`.
Case random_case(std::mt19937& rng, bool real) {
    const index_t n = 1 + static_cast<index_t>(rng() % 30);
    const std::size_t m = rng() % 90;
    std::vector<index_t> t(m), h(m);
    std::vector<double> w(m);
    for (std::size_t i = 0; i < m; ++i) {
        t[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        h[i] = rng() % 10 == 0 ? t[i] : static_cast<index_t>(rng() % static_cast<unsigned>(n));
        w[i] = rng() % 5 == 0 ? 0.0
               : real         ? std::uniform_real_distribution<double>(0.0, 10.0)(rng)
                              : static_cast<double>(rng() % 10);
    }
    Case c{Graph::from_links(n, t, h), w, static_cast<index_t>(rng() % 3 == 0 ? rng() % static_cast<unsigned>(n + 1) : 0)};
    return c;
}

// Bellman-Ford with the zones rule: only the origin and nodes >= first_thru relax their links.
std::vector<double> bellman_ford(const Case& c, index_t origin) {
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

bool near(double a, double b) { return a == b || std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

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
        Case c = random_case(rng, real);
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
        Case c = random_case(rng, true);
        const index_t n = c.g.num_nodes;
        const RoutingGraph g(c.g.forward(), c.w, c.first_thru);
        DijkstraQuery q(n);
        std::vector<double> d(n);
        std::vector<index_t> pred(n);
        const index_t o = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        const auto expect = bellman_ford(c, o);
        std::vector<index_t> targets;
        for (int k = 0; k < 3; ++k) targets.push_back(static_cast<index_t>(rng() % static_cast<unsigned>(n)));
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
        Case c = random_case(rng, true);
        const index_t n = c.g.num_nodes;
        const RoutingGraph g(c.g.forward(), c.w, c.first_thru);
        std::vector<index_t> origins, targets;
        for (int k = 0; k < 7; ++k) origins.push_back(static_cast<index_t>(rng() % static_cast<unsigned>(n)));
        for (int k = 0; k < 5; ++k) targets.push_back(static_cast<index_t>(rng() % static_cast<unsigned>(n)));
        std::vector<double> m1(origins.size() * targets.size()), m3(m1.size());
        DijkstraPool pool;
        distance_matrix(g, origins, targets, m1, 1, {}, &pool);
        distance_matrix(g, origins, targets, m3, 3, {}, &pool);
        CHECK(m1 == m3);
        for (std::size_t i = 0; i < origins.size(); ++i) {
            const auto expect = bellman_ford(c, origins[i]);
            for (std::size_t j = 0; j < targets.size(); ++j) CHECK(near(m1[i * targets.size() + j], expect[targets[j]]));
        }
    }
}

TEST_CASE("batched paths are valid, cost their distance, and do not depend on threads") {
    std::mt19937 rng(77);
    for (int trial = 0; trial < 80; ++trial) {
        Case c = random_case(rng, true);
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
            const auto expect = bellman_ford(c, o[i]);
            CHECK(near(a.cost[i], expect[d[i]]));
            const auto lo = a.offsets[i], hi = a.offsets[i + 1];
            if (expect[d[i]] == kInf || o[i] == d[i]) {
                CHECK(lo == hi);
                continue;
            }
            index_t at = o[i];
            double sum = 0;
            for (auto k = lo; k < hi; ++k) {
                const index_t l = a.links[k];
                CHECK(c.g.tail[l] == at);
                CHECK(at == o[i] || at >= c.first_thru);
                sum += c.w[l];
                at = c.g.head[l];
            }
            CHECK(at == d[i]);
            CHECK(near(sum, a.cost[i]));
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
    std::vector<index_t> t, h;
    for (index_t r = 0; r < side; ++r)
        for (index_t c = 0; c < side; ++c) {
            const index_t v = r * side + c;
            if (c + 1 < side) { t.push_back(v); h.push_back(v + 1); t.push_back(v + 1); h.push_back(v); }
            if (r + 1 < side) { t.push_back(v); h.push_back(v + side); t.push_back(v + side); h.push_back(v); }
        }
    Graph g = Graph::from_links(side * side, t, h);
    std::vector<double> w(t.size(), 1.0);
    const RoutingGraph rg(g.forward(), w, 0);
    DijkstraQuery q;
    std::vector<double> d(side * side);
    std::vector<index_t> p(side * side);
    shortest_path_tree(rg, q, side + 1, {}, kInf, d, p);
    for (index_t r = 0; r < side; ++r)
        for (index_t c = 0; c < side; ++c) CHECK(d[r * side + c] == std::abs(r - 1) + std::abs(c - 1));
}

CHECK_MAIN()
