// CSR construction and connectivity, against hand-computed stars and brute force.
#include <algorithm>
#include <random>

#include "check.hpp"
#include "smartcore/graph.hpp"

using namespace smartcore;

TEST_CASE("forward and reverse star of a small multigraph") {
    // 0->1, 0->2, 1->2, 2->0, 0->1 (parallel), 1->1 (self loop)
    Graph g = Graph::from_links(3, {0, 0, 1, 2, 0, 1}, {1, 2, 2, 0, 1, 1});
    CHECK((g.fs_first == std::vector<index_t>{0, 3, 5, 6}));
    CHECK((g.fs_link == std::vector<index_t>{0, 1, 4, 2, 5, 3}));  // stable: link order kept
    CHECK((g.fs_head == std::vector<index_t>{1, 2, 1, 2, 1, 0}));
    CHECK((g.bs_first == std::vector<index_t>{0, 1, 4, 6}));
    CHECK((g.bs_link == std::vector<index_t>{3, 0, 4, 5, 1, 2}));
    CHECK((g.bs_tail == std::vector<index_t>{2, 0, 0, 1, 0, 1}));
}

TEST_CASE("stars of random graphs list every link exactly once, in link order") {
    std::mt19937 rng(12345);
    for (int trial = 0; trial < 50; ++trial) {
        const index_t n = 1 + static_cast<index_t>(rng() % 40);
        const std::size_t m = rng() % 200;
        std::vector<index_t> t(m), h(m);
        for (std::size_t i = 0; i < m; ++i) {
            t[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
            h[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        }
        Graph g = Graph::from_links(n, t, h);
        for (index_t v = 0; v < n; ++v) {
            std::vector<index_t> expect;
            for (std::size_t i = 0; i < m; ++i)
                if (t[i] == v) expect.push_back(static_cast<index_t>(i));
            std::vector<index_t> got(g.fs_link.begin() + g.fs_first[v], g.fs_link.begin() + g.fs_first[v + 1]);
            CHECK(got == expect);
            for (index_t p = g.fs_first[v]; p < g.fs_first[v + 1]; ++p) CHECK(g.fs_head[p] == h[g.fs_link[p]]);
            for (index_t p = g.bs_first[v]; p < g.bs_first[v + 1]; ++p) {
                CHECK(h[g.bs_link[p]] == v);
                CHECK(g.bs_tail[p] == t[g.bs_link[p]]);
            }
        }
    }
}

TEST_CASE("out-of-range endpoints are rejected with the field named") {
    try {
        Graph::from_links(3, {0, 3}, {1, 1});
        CHECK(false);
    } catch (const InputError& e) {
        CHECK(e.field() == "tail");
        CHECK(e.index() == 1);
    }
    CHECK_THROWS(Graph::from_links(3, {0}, {-1}), InputError);
    CHECK_THROWS(Graph::from_links(3, {0, 1}, {1}), InputError);
}

TEST_CASE("empty graph") {
    Graph g = Graph::from_links(0, {}, {});
    CHECK(g.fs_first.size() == 1);
    CHECK(g.num_links() == 0);
}

TEST_CASE("weak components match a brute-force flood fill") {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 30; ++trial) {
        const index_t n = 1 + static_cast<index_t>(rng() % 60);
        const std::size_t m = rng() % 60;
        std::vector<index_t> t(m), h(m);
        for (std::size_t i = 0; i < m; ++i) {
            t[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
            h[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        }
        std::vector<index_t> label(static_cast<std::size_t>(n));
        const index_t count = weak_components(n, t, h, label);
        // brute force: repeated relaxation of min label
        std::vector<index_t> ref(static_cast<std::size_t>(n));
        for (index_t v = 0; v < n; ++v) ref[v] = v;
        for (bool changed = true; changed;) {
            changed = false;
            for (std::size_t i = 0; i < m; ++i) {
                const index_t lo = std::min(ref[t[i]], ref[h[i]]);
                if (ref[t[i]] != lo || ref[h[i]] != lo) { ref[t[i]] = ref[h[i]] = lo; changed = true; }
            }
        }
        CHECK(label == ref);
        index_t ref_count = 0;
        for (index_t v = 0; v < n; ++v) ref_count += ref[v] == v;
        CHECK(count == ref_count);
    }
}

TEST_CASE("strong components match reachability by brute force") {
    std::mt19937 rng(99);
    for (int trial = 0; trial < 40; ++trial) {
        const index_t n = 1 + static_cast<index_t>(rng() % 30);
        const std::size_t m = rng() % 70;
        std::vector<index_t> t(m), h(m);
        for (std::size_t i = 0; i < m; ++i) {
            t[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
            h[i] = static_cast<index_t>(rng() % static_cast<unsigned>(n));
        }
        Graph g = Graph::from_links(n, t, h);
        std::vector<index_t> label(static_cast<std::size_t>(n));
        const index_t count = strong_components(g.forward(), g.reverse(), label);
        // Brute force: transitive closure by repeated relaxation.
        std::vector<std::vector<char>> reach(n, std::vector<char>(n, 0));
        for (index_t v = 0; v < n; ++v) reach[v][v] = 1;
        for (bool changed = true; changed;) {
            changed = false;
            for (index_t a = 0; a < n; ++a)
                for (std::size_t i = 0; i < m; ++i)
                    if (reach[a][t[i]] && !reach[a][h[i]]) { reach[a][h[i]] = 1; changed = true; }
        }
        index_t ref_count = 0;
        for (index_t v = 0; v < n; ++v) {
            index_t smallest = v;
            for (index_t w = 0; w < n; ++w)
                if (reach[v][w] && reach[w][v]) smallest = std::min(smallest, w);
            CHECK(label[v] == smallest);
            ref_count += smallest == v;
        }
        CHECK(count == ref_count);
    }
}

TEST_CASE("strong components on a 200k-node path do not overflow the stack") {
    const index_t n = 200000;
    std::vector<index_t> t, h;
    for (index_t v = 0; v + 1 < n; ++v) { t.push_back(v); h.push_back(v + 1); }
    t.push_back(n - 1); h.push_back(0);  // one big cycle
    Graph g = Graph::from_links(n, t, h);
    std::vector<index_t> label(static_cast<std::size_t>(n));
    CHECK(strong_components(g.forward(), g.reverse(), label) == 1);
    CHECK(label[n - 1] == 0);
}

CHECK_MAIN()
