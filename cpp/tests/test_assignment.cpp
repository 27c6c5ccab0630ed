// Tests of the assignment kernel against closed-form equilibria (Braess, parallel links, tolls,
// zones rule) and structural properties (flow conservation, determinism, bounds between the
// algorithms), plus the link performance functions against numerical differentiation/integration.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "check.hpp"
#include "smartcore/assignment.hpp"
#include "smartcore/graph.hpp"

using namespace smartcore;

namespace {

// A small owning problem: links, BPR parameters, zones and one or more classes.
struct Case {
    index_t n = 0;
    std::vector<index_t> tail, head;
    std::vector<double> t0, cap, alpha, beta;
    std::vector<index_t> zones;
    index_t first_thru = 0;
    Graph g;

    void link(index_t a, index_t b, double fft, double c, double al, double be) {
        tail.push_back(a);
        head.push_back(b);
        t0.push_back(fft);
        cap.push_back(c);
        alpha.push_back(al);
        beta.push_back(be);
    }
    void build() { g = Graph::from_links(n, tail, head); }
    AssignmentNetwork net() const {
        AssignmentNetwork a;
        a.forward = g.forward();
        a.tail = g.tail;
        a.head = g.head;
        a.first_thru_node = first_thru;
        a.zone_node = zones;
        return a;
    }
    LinkPerformanceView vdf() const { return {VdfKind::kBpr, t0, cap, alpha, beta}; }
};

AssignmentOptions opts(Algorithm alg, double gap = 1e-12, int iters = 1000) {
    AssignmentOptions o;
    o.algorithm = alg;
    o.target_gap = gap;
    o.max_iterations = iters;
    o.threads = 1;
    return o;
}

// Braess example of the TNTP repository (Braess_net.tntp): nodes 1..4 -> 0..3, zones 1 and 2,
// capacity 1 with B scaled so that the costs are
//   1->3: 1e-8 + 10 v   1->4: 50 + v   3->2: 50 + v   3->4: 10 + v   4->2: 1e-8 + 10 v
// and 6 trips from 1 to 2. With path flows f1 (1-3-2), f2 (1-4-2), f3 (1-3-4-2) the path costs
// are 50 + e + 11 f1 + 10 f3, 50 + e + 11 f2 + 10 f3 and 10 + 2e + 10 f1 + 10 f2 + 21 f3
// (e = 1e-8). By symmetry f1 = f2 = f, f3 = 6 - 2f, and equal costs give 13 f = 26 + e:
// f = 2 + e/13, so v13 = v42 = 4 - e/13, v14 = v32 = 2 + e/13, v34 = 2 - 2e/13, every path costs
// 92 + 4e/13 and TSTT = 6 (92 + 4e/13) (the textbook 4/2/2/2/4 and 92, up to the 1e-8 terms).
Case braess() {
    Case c;
    c.n = 4;
    c.link(0, 2, 1e-8, 1, 1e9, 1);
    c.link(0, 3, 50, 1, 0.02, 1);
    c.link(2, 1, 50, 1, 0.02, 1);
    c.link(2, 3, 10, 1, 0.1, 1);
    c.link(3, 1, 1e-8, 1, 1e9, 1);
    c.zones = {0, 1};
    c.build();
    return c;
}

// A w x h grid with links both ways, BPR(0.15, 4), pseudo-random times and capacities; zones are
// the first `nz` nodes.
Case grid(int w, int h, int nz, unsigned seed, double zero_share = 0.0) {
    Case c;
    c.n = w * h;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.5, 3.0), cap(200, 900), z(0, 1);
    auto id = [&](int x, int y) { return static_cast<index_t>(y * w + x); };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            if (x + 1 < w) {
                const double t = z(rng) < zero_share ? 0.0 : u(rng);
                c.link(id(x, y), id(x + 1, y), t, cap(rng), 0.15, 4);
                c.link(id(x + 1, y), id(x, y), t, cap(rng), 0.15, 4);
            }
            if (y + 1 < h) {
                const double t = z(rng) < zero_share ? 0.0 : u(rng);
                c.link(id(x, y), id(x, y + 1), t, cap(rng), 0.15, 4);
                c.link(id(x, y + 1), id(x, y), t, cap(rng), 0.15, 4);
            }
        }
    for (int k = 0; k < nz; ++k) c.zones.push_back(static_cast<index_t>(k));
    c.build();
    return c;
}

std::vector<double> random_demand(int nz, unsigned seed, double scale) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, scale);
    std::vector<double> d(static_cast<std::size_t>(nz * nz));
    for (int i = 0; i < nz; ++i)
        for (int j = 0; j < nz; ++j) d[static_cast<std::size_t>(i * nz + j)] = u(rng);
    return d;
}

// Max over non-origin nodes of |inflow - outflow - demand in + demand out| for total flows.
double conservation_error(const Case& c, const std::vector<double>& flow, const std::vector<double>& dem) {
    const std::size_t z = c.zones.size();
    std::vector<double> bal(static_cast<std::size_t>(c.n), 0.0);
    for (std::size_t a = 0; a < flow.size(); ++a) {
        bal[c.head[a]] += flow[a];
        bal[c.tail[a]] -= flow[a];
    }
    for (std::size_t i = 0; i < z; ++i)
        for (std::size_t j = 0; j < z; ++j) {
            if (c.zones[i] == c.zones[j]) continue;
            bal[c.zones[j]] -= dem[i * z + j];
            bal[c.zones[i]] += dem[i * z + j];
        }
    double e = 0.0;
    for (double b : bal) e = std::max(e, std::fabs(b));
    return e;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
TEST_CASE("BPR: values, derivative and integral agree with finite differences") {
    std::vector<double> t0{2.0, 1.5, 3.0, 0.0, 1.0}, cap{100, 50, 80, 10, 20},
        al{0.15, 0.5, 1.0, 0.15, 0.2}, be{4, 2.5, 1, 4, 0.5};
    LinkPerformance p({VdfKind::kBpr, t0, cap, al, be});
    for (index_t a = 0; a < 5; ++a)
        for (double v : {1.0, 37.0, 120.0}) {
            const double t = p.time(a, v);
            CHECK_NEAR(t, t0[a] * (1 + al[a] * std::pow(v / cap[a], be[a])), 1e-12 * (1 + t));
            const double h = 1e-4 * v;
            const double fd = (p.time(a, v + h) - p.time(a, v - h)) / (2 * h);
            CHECK_NEAR(p.derivative(a, v), fd, 1e-6 * (1 + std::fabs(fd)));
            double tt, dd;
            p.time_and_derivative(a, v, tt, dd);
            CHECK_NEAR(tt, t, 1e-12 * (1 + t));
            CHECK_NEAR(dd, p.derivative(a, v), 1e-12 * (1 + dd));
            // Simpson's rule on [0, v].
            const int n = 2000;
            double s = p.time(a, 0) + p.time(a, v);
            for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * p.time(a, v * i / n);
            CHECK_NEAR(p.integral(a, v), s * v / (3 * n), 1e-6 * (1 + s));
        }
    CHECK(p.is_constant(3));  // zero free-flow time
    CHECK(p.time(3, 50) == 0.0);
}

TEST_CASE("BPR with power 0 is the constant t0 (1 + alpha), also at zero flow (0^0 = 1)") {
    std::vector<double> t0{2.0}, cap{10}, al{0.5}, be{0};
    LinkPerformance p({VdfKind::kBpr, t0, cap, al, be});
    CHECK(p.is_constant(0));
    CHECK_NEAR(p.time(0, 0.0), 3.0, 0);
    CHECK_NEAR(p.time(0, 25.0), 3.0, 0);
    CHECK_NEAR(p.derivative(0, 0.0), 0.0, 0);
    CHECK_NEAR(p.integral(0, 4.0), 12.0, 1e-12);
    // Zero flow with a positive power: exactly t0, derivative 0 for beta > 1.
    std::vector<double> be4{4};
    LinkPerformance q({VdfKind::kBpr, t0, cap, al, be4});
    CHECK(q.time(0, 0.0) == 2.0);
    CHECK(q.derivative(0, 0.0) == 0.0);
    CHECK(q.time(0, -1e-12) == 2.0);  // rounding below zero reads as zero
}

TEST_CASE("conical (Spiess 1990): t(0) = t0, t(c) = 2 t0, derivative and integral consistent") {
    std::vector<double> t0{2.0, 1.0}, cap{100, 40}, al{4.0, 1.5}, be{0, 0};
    LinkPerformance p({VdfKind::kConical, t0, cap, al, be});
    for (index_t a = 0; a < 2; ++a) {
        CHECK_NEAR(p.time(a, 0.0), t0[a], 1e-12);
        CHECK_NEAR(p.time(a, cap[a]), 2 * t0[a], 1e-12);
        // Slope at capacity: t0 * alpha / c (the sqrt term is flat there).
        CHECK_NEAR(p.derivative(a, cap[a]), t0[a] * al[a] / cap[a], 1e-12);
        for (double v : {5.0, 60.0, 150.0}) {
            const double h = 1e-4 * v;
            const double fd = (p.time(a, v + h) - p.time(a, v - h)) / (2 * h);
            CHECK_NEAR(p.derivative(a, v), fd, 1e-6 * (1 + std::fabs(fd)));
            const int n = 2000;
            double s = p.time(a, 0) + p.time(a, v);
            for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * p.time(a, v * i / n);
            CHECK_NEAR(p.integral(a, v), s * v / (3 * n), 1e-7 * (1 + s));
        }
    }
    std::vector<double> bad{1.0};
    std::vector<double> one_t{1}, one_c{1}, one_b{0};
    CHECK_THROWS(LinkPerformance({VdfKind::kConical, one_t, one_c, bad, one_b}), InputError);
}

TEST_CASE("link parameters are validated with the field named") {
    std::vector<double> t0{1.0}, cap0{0.0}, capn{-1}, al{0.15}, be{4}, nan{std::nan("")};
    try {
        LinkPerformance p({VdfKind::kBpr, t0, cap0, al, be});
        CHECK(false);
    } catch (const InputError& e) {
        CHECK(e.field() == "capacity");
        CHECK(e.index() == 0);
    }
    CHECK_THROWS(LinkPerformance({VdfKind::kBpr, t0, capn, al, be}), InputError);
    CHECK_THROWS(LinkPerformance({VdfKind::kBpr, nan, al, al, be}), InputError);
    CHECK_THROWS(LinkPerformance({VdfKind::kBpr, t0, t0, nan, be}), InputError);
}

// ------------------------------------------------------------------------------------------------
TEST_CASE("Braess: every algorithm finds v13 = v42 = 4, the rest 2, all paths 92") {
    Case c = braess();
    std::vector<double> dem{0, 6, 0, 0};
    const TrafficClass cls{dem, 1.0, {}};
    const double e = 1e-8;
    const std::vector<double> expect{4 - e / 13, 2 + e / 13, 2 + e / 13, 2 - 2 * e / 13, 4 - e / 13};
    {
        AssignmentResult r = assign(c.net(), c.vdf(), {cls}, opts(Algorithm::kBush, 1e-14));
        CHECK(r.converged);
        CHECK(r.stop_reason == "converged");
        for (int a = 0; a < 5; ++a) CHECK_NEAR(r.link_flow[a], expect[a], 1e-13);
        CHECK_NEAR(r.total_travel_time, 6 * (92 + 4 * e / 13), 1e-10);
        CHECK_NEAR(r.shortest_path_cost, 6 * (92 + 4 * e / 13), 1e-10);
        CHECK(r.relative_gap <= 1e-14);
        // Beckmann: e v + 5 v^2 on 1->3 and 4->2; 50 v + v^2/2 on 1->4, 3->2; 10 v + v^2/2 on 3->4.
        double z = 0;
        for (int a : {0, 4}) z += e * expect[a] + 5 * expect[a] * expect[a];
        for (int a : {1, 2}) z += 50 * expect[a] + 0.5 * expect[a] * expect[a];
        z += 10 * expect[3] + 0.5 * expect[3] * expect[3];
        CHECK_NEAR(r.beckmann, z, 1e-10);
    }
    for (Algorithm alg : {Algorithm::kFrankWolfe, Algorithm::kConjugateFrankWolfe,
                          Algorithm::kBiconjugateFrankWolfe, Algorithm::kMsa}) {
        AssignmentResult r = assign(c.net(), c.vdf(), {cls}, opts(alg, 1e-6, 20000));
        CHECK(r.converged);
        for (int a = 0; a < 5; ++a) CHECK_NEAR(r.link_flow[a], expect[a], 2e-2);
    }
    AssignmentResult aon = assign(c.net(), c.vdf(), {cls}, opts(Algorithm::kAllOrNothing));
    CHECK(aon.stop_reason == "all_or_nothing");
    CHECK(aon.iterations == 1);
    // Free flow: 1-3-4-2 costs 10 + 2e-8 and takes all 6 trips.
    CHECK_NEAR(aon.link_flow[0], 6, 0);
    CHECK_NEAR(aon.link_flow[3], 6, 0);
    CHECK_NEAR(aon.link_flow[4], 6, 0);
}

TEST_CASE("two parallel links: 1 + v and 2 + v/2 with 10 trips split 4 / 6 at cost 5") {
    Case c;
    c.n = 2;
    c.link(0, 1, 1, 1, 1, 1);    // 1 + v
    c.link(0, 1, 2, 4, 1, 1);    // 2 (1 + v / 4) = 2 + v / 2
    c.zones = {0, 1};
    c.build();
    std::vector<double> dem{0, 10, 0, 0};
    for (Algorithm alg : {Algorithm::kBush, Algorithm::kFrankWolfe}) {
        AssignmentResult r = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, opts(alg, 1e-12));
        CHECK(r.converged);
        CHECK_NEAR(r.link_flow[0], 4, 1e-9);
        CHECK_NEAR(r.link_flow[1], 6, 1e-9);
        CHECK_NEAR(r.link_time[0], 5, 1e-9);
        CHECK_NEAR(r.link_time[1], 5, 1e-9);
        CHECK_NEAR(r.average_excess_cost, 0, 1e-9);
    }
}

TEST_CASE("tolls, PCE and two classes: each class at its own equilibrium") {
    // Two parallel links 1 + v (tolled 3 for class 0 only) and 2 + v. Class 0 (cars, pce 1,
    // 4 trips) pays the toll; class 1 (trucks, pce 2, 3 trips) does not. Flows in PCE:
    // trucks see 1 + V1 < 2 + V2 unless V1 >= V2 + 1, cars see 4 + V1 vs 2 + V2.
    // Equilibrium: cars all on link 2 (cost 2 + V2), trucks split so that 1 + V1 = 2 + V2:
    // V1 + V2 = 10 PCE, V1 = 5.5, V2 = 4.5 (cars 4 + trucks 0.25 x 2), trucks on link 1: 2.75.
    // Check cars: 4 + 5.5 = 9.5 > 2 + 4.5 = 6.5, so cars stay on link 2.
    Case c;
    c.n = 2;
    c.link(0, 1, 1, 1, 1, 1);
    c.link(0, 1, 2, 2, 1, 1);  // 2 (1 + v / 2) = 2 + v
    c.zones = {0, 1};
    c.build();
    std::vector<double> cars{0, 4, 0, 0}, trucks{0, 3, 0, 0}, toll{3, 0};
    const std::vector<TrafficClass> classes{{cars, 1.0, toll}, {trucks, 2.0, {}}};
    for (Algorithm alg : {Algorithm::kBush, Algorithm::kBiconjugateFrankWolfe}) {
        AssignmentResult r = assign(c.net(), c.vdf(), classes, opts(alg, 1e-11, 5000));
        CHECK(r.converged);
        CHECK_NEAR(r.link_flow[0], 5.5, 1e-6);
        CHECK_NEAR(r.link_flow[1], 4.5, 1e-6);
        CHECK_NEAR(r.class_flow[0][0], 0.0, 1e-6);
        CHECK_NEAR(r.class_flow[0][1], 4.0, 1e-6);
        CHECK_NEAR(r.class_flow[1][0], 2.75, 1e-6);
        CHECK_NEAR(r.class_flow[1][1], 0.25, 1e-6);
        // TSTC = cars 4 x 6.5 + trucks (pce 2) 3 x 2 x 6.5.
        CHECK_NEAR(r.total_cost, 26 + 39, 1e-5);
    }
}

TEST_CASE("zones rule: paths never pass through a zone below first_thru_node") {
    // 0 -> 1 -> 2 is short (1 + 1) but node 1 is a zone; the detour 0 -> 3 -> 2 costs 10.
    Case c;
    c.n = 4;
    c.link(0, 1, 1, 100, 0.15, 4);
    c.link(1, 2, 1, 100, 0.15, 4);
    c.link(0, 3, 5, 100, 0.15, 4);
    c.link(3, 2, 5, 100, 0.15, 4);
    c.zones = {0, 1, 2};
    std::vector<double> dem(9, 0.0);
    dem[0 * 3 + 2] = 10;  // zone 0 -> zone 2
    dem[0 * 3 + 1] = 1;   // zone 0 -> zone 1 (uses 0 -> 1)
    c.build();
    for (index_t ftn : {0, 3}) {
        c.first_thru = ftn;
        for (Algorithm alg : {Algorithm::kBush, Algorithm::kFrankWolfe, Algorithm::kAllOrNothing}) {
            AssignmentResult r = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, opts(alg, 1e-12));
            CHECK_NEAR(r.link_flow[0], ftn ? 1.0 : 11.0, 1e-9);
            CHECK_NEAR(r.link_flow[1], ftn ? 0.0 : 10.0, 1e-9);
            CHECK_NEAR(r.link_flow[2], ftn ? 10.0 : 0.0, 1e-9);
        }
    }
}

TEST_CASE("unreachable OD pairs are reported, not assigned, and never NaN") {
    // Two components {0, 1} and {2, 3}: zone 0 -> zone 2 has no path.
    Case c;
    c.n = 4;
    c.link(0, 1, 1, 10, 0.15, 4);
    c.link(2, 3, 1, 10, 0.15, 4);
    c.zones = {0, 1, 2, 3};
    c.build();
    std::vector<double> dem(16, 0.0);
    dem[0 * 4 + 1] = 5;
    dem[0 * 4 + 2] = 7;
    dem[2 * 4 + 0] = 2;
    dem[3 * 4 + 3] = 4;  // intrazonal
    for (Algorithm alg : {Algorithm::kBush, Algorithm::kBiconjugateFrankWolfe, Algorithm::kAllOrNothing}) {
        AssignmentResult r = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, opts(alg));
        CHECK(r.unreachable_pairs[0] == 2);
        CHECK_NEAR(r.unreachable_demand[0], 9.0, 0);
        CHECK_NEAR(r.assigned_demand[0], 5.0, 1e-12);
        CHECK_NEAR(r.intrazonal_demand[0], 4.0, 0);
        CHECK_NEAR(r.link_flow[0], 5.0, 1e-12);
        CHECK_NEAR(r.link_flow[1], 0.0, 0);
        CHECK(std::isfinite(r.relative_gap));
        CHECK(std::isfinite(r.total_cost));
    }
    // Nothing reachable at all: gap 0, no flows.
    std::vector<double> only_bad(16, 0.0);
    only_bad[1 * 4 + 2] = 3;
    AssignmentResult r = assign(c.net(), c.vdf(), {{only_bad, 1.0, {}}}, opts(Algorithm::kBush));
    CHECK(r.converged);
    CHECK(r.relative_gap == 0.0);
    CHECK_NEAR(r.unreachable_demand[0], 3.0, 0);
}

TEST_CASE("zero-cost links, zero-cost cycles and constant-cost links") {
    // Grid with a quarter of the links at zero free-flow time (zero-cost two-cycles everywhere),
    // plus one constant-cost (power 0) shortcut from zone 0 to the far corner.
    Case c = grid(6, 6, 6, 7, 0.25);
    c.link(0, 35, 4.0, 50, 0.5, 0);  // constant 6
    c.build();
    std::vector<double> dem = random_demand(6, 3, 300.0);
    AssignmentResult r = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, opts(Algorithm::kBush, 1e-11));
    CHECK(r.converged);
    CHECK(conservation_error(c, r.link_flow, dem) < 1e-7);
    for (double f : r.link_flow) CHECK(f >= 0.0);
}

TEST_CASE("grid: Algorithm B conserves flow, the FW family is within its gap of its objective") {
    Case c = grid(8, 7, 12, 11);
    std::vector<double> dem = random_demand(12, 5, 250.0);
    const TrafficClass cls{dem, 1.0, {}};
    AssignmentResult b = assign(c.net(), c.vdf(), {cls}, opts(Algorithm::kBush, 1e-12));
    CHECK(b.converged);
    CHECK(conservation_error(c, b.link_flow, dem) < 1e-7);
    for (Algorithm alg : {Algorithm::kFrankWolfe, Algorithm::kConjugateFrankWolfe,
                          Algorithm::kBiconjugateFrankWolfe, Algorithm::kMsa}) {
        // Plain FW and MSA converge sublinearly: a looser target for them.
        const bool slow = alg == Algorithm::kFrankWolfe || alg == Algorithm::kMsa;
        AssignmentResult r = assign(c.net(), c.vdf(), {cls}, opts(alg, slow ? 1e-3 : 1e-4, 3000));
        CHECK(conservation_error(c, r.link_flow, dem) < 1e-7);
        // Convexity: 0 <= Z(x) - Z* <= TSTC - SPTC (the Frank-Wolfe duality gap).
        const double excess = r.beckmann - b.beckmann;
        CHECK(excess >= -1e-9 * b.beckmann);
        CHECK(excess <= r.total_cost - r.shortest_path_cost + 1e-9 * b.beckmann);
        if (alg != Algorithm::kMsa) CHECK(r.converged);
    }
}

TEST_CASE("results are identical run to run, and for 1 vs several threads up to rounding") {
    Case c = grid(9, 9, 20, 13);
    std::vector<double> dem = random_demand(20, 9, 150.0);
    const TrafficClass cls{dem, 1.0, {}};
    for (Algorithm alg : {Algorithm::kBush, Algorithm::kBiconjugateFrankWolfe}) {
        AssignmentOptions o = opts(alg, 1e-9, 200);
        AssignmentResult a = assign(c.net(), c.vdf(), {cls}, o);
        AssignmentResult b = assign(c.net(), c.vdf(), {cls}, o);
        CHECK(a.link_flow == b.link_flow);
        CHECK(a.gap_history == b.gap_history);
        o.threads = 3;
        AssignmentResult t1 = assign(c.net(), c.vdf(), {cls}, o);
        AssignmentResult t2 = assign(c.net(), c.vdf(), {cls}, o);
        CHECK(t1.link_flow == t2.link_flow);
        if (alg == Algorithm::kBush) {
            CHECK(t1.link_flow == a.link_flow);  // Algorithm B does not depend on threads at all
            CHECK(t1.gap_history == a.gap_history);
        }
        for (std::size_t i = 0; i < a.link_flow.size(); ++i)
            CHECK_NEAR(t1.link_flow[i], a.link_flow[i], 1e-6 * (1 + a.link_flow[i]));
    }
}

TEST_CASE("all_or_nothing: threads give the same loading") {
    Case c = grid(7, 5, 10, 2);
    std::vector<double> dem = random_demand(10, 4, 50.0);
    std::vector<double> cost(c.t0);
    const TrafficClass cls{dem, 2.0, {}};
    AonResult a = all_or_nothing(c.net(), cost, cls, 1);
    AonResult b = all_or_nothing(c.net(), cost, cls, 4);
    for (std::size_t i = 0; i < a.flow.size(); ++i) CHECK_NEAR(a.flow[i], b.flow[i], 1e-9);
    CHECK_NEAR(a.shortest_path_cost, b.shortest_path_cost, 1e-9);
    double total = 0;
    for (int i = 0; i < 10; ++i)
        for (int j = 0; j < 10; ++j)
            if (i != j) total += dem[static_cast<std::size_t>(i * 10 + j)];
    CHECK_NEAR(a.assigned_demand, total, 1e-9);
    // Loaded in PCE: the flow out of all origins equals 2 x the demand.
    CHECK(conservation_error(c, a.flow, [&] {
              std::vector<double> d2(dem);
              for (double& x : d2) x *= 2;
              return d2;
          }()) < 1e-9);
}

TEST_CASE("more demand never lowers the equilibrium TSTT") {
    Case c = grid(6, 5, 8, 21);
    std::vector<double> dem = random_demand(8, 17, 200.0);
    double last = -1;
    for (double s : {0.5, 1.0, 1.5, 2.0}) {
        std::vector<double> d(dem);
        for (double& x : d) x *= s;
        AssignmentResult r = assign(c.net(), c.vdf(), {{d, 1.0, {}}}, opts(Algorithm::kBush, 1e-11));
        CHECK(r.total_travel_time > last);
        last = r.total_travel_time;
    }
}

TEST_CASE("stopping rules: max_iterations, on_iteration cancel, keep_going, time_limit") {
    Case c = grid(8, 8, 16, 31);
    std::vector<double> dem = random_demand(16, 2, 600.0);
    const TrafficClass cls{dem, 1.0, {}};
    AssignmentOptions o = opts(Algorithm::kFrankWolfe, 0.0, 5);
    AssignmentResult r = assign(c.net(), c.vdf(), {cls}, o);
    CHECK(r.iterations == 5);
    CHECK(!r.converged);
    CHECK(r.stop_reason == "max_iterations");
    CHECK(r.gap_history.size() == 5);
    int calls = 0;
    o = opts(Algorithm::kBush, 0.0, 100);
    o.on_iteration = [&](int it, double gap) {
        ++calls;
        CHECK(it == calls);
        CHECK(gap >= 0);
        return it < 3;
    };
    r = assign(c.net(), c.vdf(), {cls}, o);
    CHECK(r.stop_reason == "cancelled");
    CHECK(r.iterations == 3);
    CHECK(!r.converged);
    CHECK(conservation_error(c, r.link_flow, dem) < 1e-7);
    o.on_iteration = nullptr;
    int polls = 0;
    o.keep_going = [&]() { return ++polls < 10; };
    CHECK_THROWS(assign(c.net(), c.vdf(), {cls}, o), Cancelled);
    o.keep_going = nullptr;
    o.time_limit = 1e-9;
    r = assign(c.net(), c.vdf(), {cls}, o);
    CHECK(r.stop_reason == "time_limit");
    CHECK(r.iterations == 1);
}

TEST_CASE("bad input raises InputError naming the field") {
    Case c = braess();
    std::vector<double> dem{0, 6, 0, 0};
    auto field_of = [&](auto&& fn) -> std::string {
        try {
            fn();
        } catch (const InputError& e) {
            return e.field();
        }
        return "";
    };
    std::vector<double> nan_dem{0, std::nan(""), 0, 0}, neg_dem{0, -1, 0, 0}, short_dem{0, 6};
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{nan_dem, 1.0, {}}}, opts(Algorithm::kBush)); }) == "demand");
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{neg_dem, 1.0, {}}}, opts(Algorithm::kBush)); }) == "demand");
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{short_dem, 1.0, {}}}, opts(Algorithm::kBush)); }) == "demand");
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{dem, 0.0, {}}}, opts(Algorithm::kBush)); }) == "pce");
    std::vector<double> neg_fixed{0, 0, -1, 0, 0};
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{dem, 1.0, neg_fixed}}, opts(Algorithm::kBush)); }) == "fixed_cost");
    Case z = braess();
    z.zones = {0, 9};
    CHECK(field_of([&] { assign(z.net(), z.vdf(), {{dem, 1.0, {}}}, opts(Algorithm::kBush)); }) == "zone_node");
    Case k = braess();
    k.cap[2] = 0.0;
    CHECK(field_of([&] { assign(k.net(), k.vdf(), {{dem, 1.0, {}}}, opts(Algorithm::kBush)); }) == "capacity");
    AssignmentOptions o = opts(Algorithm::kBush);
    o.target_gap = std::nan("");
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o); }) == "gap");
    o = opts(Algorithm::kBush);
    o.max_iterations = 0;
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o); }) == "max_iterations");
    CHECK(field_of([&] { assign(c.net(), c.vdf(), {}, opts(Algorithm::kBush)); }) == "classes");
}

// ------------------------------------------------------------------------------------------------
// Analysis of the bush solution and warm starts.

TEST_CASE("Braess analysis: path flows 2/2/2, select-link flows, skims 92") {
    Case c = braess();
    std::vector<double> dem{0, 6, 0, 0};
    AssignmentResult r = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, opts(Algorithm::kBush, 1e-14));
    CHECK(r.bushes != nullptr);
    CHECK(bush_count(*r.bushes) == 1);
    std::vector<PathFlow> paths = bush_path_flows(*r.bushes, 0, 0, 1, 100);
    CHECK(paths.size() == 3);
    double total = 0;
    for (const PathFlow& p : paths) {
        CHECK_NEAR(p.flow, 2.0, 1e-8);
        CHECK(c.tail[p.links.front()] == 0 && c.head[p.links.back()] == 1);
        for (std::size_t i = 1; i < p.links.size(); ++i) CHECK(c.tail[p.links[i]] == c.head[p.links[i - 1]]);
        total += p.flow;
    }
    CHECK_NEAR(total, 6.0, 1e-12);
    CHECK(bush_path_flows(*r.bushes, 0, 1, 0, 100).empty());  // no demand 2 -> 1
    CHECK_THROWS(bush_path_flows(*r.bushes, 0, 0, 1, 2), InputError);  // more than max_paths
    CHECK(bush_path_flows(*r.bushes, 0, 0, 1, 100, 3.0).empty());  // every path below min_flow
    for (index_t a = 0; a < 5; ++a) {
        std::vector<double> sl(4, 0.0);
        const std::vector<index_t> one{a};
        select_link(*r.bushes, 0, one, sl, 1);
        CHECK_NEAR(sl[1], r.link_flow[a], 1e-9);
        CHECK(sl[0] == 0 && sl[2] == 0 && sl[3] == 0);
    }
    std::vector<double> cost(5);
    for (int a = 0; a < 5; ++a) cost[a] = r.link_time[a];
    std::vector<double> ones(5, 1.0), sp(4), avg(4), hops_sp(4), hops(4);
    shortest_path_skims(c.net(), cost, {cost, ones}, {sp, hops_sp}, 2);
    CHECK_NEAR(sp[1], 92.0, 1e-6);
    CHECK(sp[0] == 0 && sp[2] == kInf);
    avg = sp;
    hops = hops_sp;
    bush_average_skims(*r.bushes, 0, {cost, ones}, {avg, hops}, 1);
    CHECK_NEAR(avg[1], 92.0, 1e-6);
    CHECK_NEAR(hops[1], (2 + 2 + 3) / 3.0, 1e-9);  // one third of the trips on each path
    CHECK(avg[2] == kInf);                          // no demand there: left as given
    const std::vector<index_t> bad{7}, good{1};
    CHECK_THROWS(select_link(*r.bushes, 0, bad, avg, 1), InputError);
    CHECK_THROWS(select_link(*r.bushes, 3, good, avg, 1), InputError);
    AssignmentOptions o = opts(Algorithm::kBush, 1e-14);
    o.keep_bushes = false;
    CHECK(assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o).bushes == nullptr);
}

TEST_CASE("grid analysis: select-link totals are link flows, origin flows add up, path flows sum to demand") {
    Case c = grid(8, 7, 12, 11);
    std::vector<double> dem = random_demand(12, 5, 250.0);
    AssignmentResult r = assign(c.net(), c.vdf(), {{dem, 2.0, {}}}, opts(Algorithm::kBush, 1e-12));
    const BushSolution& s = *r.bushes;
    std::vector<double> sum(c.tail.size(), 0.0), of(c.tail.size());
    for (index_t o = 0; o < 12; ++o) {
        bush_origin_flows(s, 0, o, of);
        for (std::size_t a = 0; a < of.size(); ++a) sum[a] += of[a];
        std::vector<double> from_paths(c.tail.size(), 0.0);
        for (index_t d = 0; d < 12; ++d) {
            double t = 0;
            for (const PathFlow& p : bush_path_flows(s, 0, o, d, 100000)) {
                t += p.flow;
                for (index_t a : p.links) from_paths[static_cast<std::size_t>(a)] += p.flow;
            }
            CHECK_NEAR(t, o == d ? 0.0 : dem[static_cast<std::size_t>(o * 12 + d)], 1e-9 * (1 + t));
        }
        for (std::size_t a = 0; a < of.size(); ++a) CHECK_NEAR(from_paths[a], of[a], 1e-8 * (1 + of[a]));
    }
    for (std::size_t a = 0; a < sum.size(); ++a) CHECK_NEAR(sum[a], r.class_flow[0][a], 1e-8 * (1 + sum[a]));
    for (index_t a = 0; a < static_cast<index_t>(c.tail.size()); a += 7) {
        std::vector<double> pce(144, 0.0), veh(144, 0.0);
        const std::vector<index_t> one{a};
        select_link(s, -1, one, pce, 3);
        select_link(s, 0, one, veh, 1);
        double tp = 0, tv = 0;
        for (int i = 0; i < 144; ++i) {
            tp += pce[i];
            tv += veh[i];
        }
        CHECK_NEAR(tp, r.link_flow[a], 1e-9 * (1 + tp));
        CHECK_NEAR(tv, r.class_flow[0][a], 1e-9 * (1 + tv));
    }
}

TEST_CASE("warm starts reach the cold equilibrium in fewer iterations") {
    Case c = grid(9, 9, 20, 13);
    std::vector<double> dem = random_demand(20, 9, 300.0);
    AssignmentResult prev = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, opts(Algorithm::kBush, 1e-12));
    std::vector<double> dem2(dem);
    for (double& x : dem2) x *= 1.05;
    dem2[3] = 0.0;  // an OD pair dropped
    dem2[45] = 900.0;
    AssignmentResult cold = assign(c.net(), c.vdf(), {{dem2, 1.0, {}}}, opts(Algorithm::kBush, 1e-12));
    WarmStart w;
    w.bushes = prev.bushes;
    AssignmentOptions o = opts(Algorithm::kBush, 1e-12);
    o.warm_start = &w;
    AssignmentResult warm = assign(c.net(), c.vdf(), {{dem2, 1.0, {}}}, o);
    CHECK(warm.converged && cold.converged);
    CHECK(warm.iterations <= cold.iterations);
    CHECK_NEAR(warm.beckmann, cold.beckmann, 1e-9 * cold.beckmann);
    CHECK(conservation_error(c, warm.link_flow, dem2) < 1e-7);
    // Link-based warm start of BFW from the previous flows (demand scaled: r = 1.05, so it starts
    // from 1.05 x the previous flows; with an OD pair dropped r would be 0, a cold start).
    for (std::size_t i = 0; i < dem.size(); ++i) dem2[i] = 1.05 * dem[i];
    WarmStart lw;
    lw.class_flow = {prev.class_flow[0]};
    lw.demand = {dem};
    AssignmentOptions ob = opts(Algorithm::kBiconjugateFrankWolfe, 1e-4, 5000);  // BFW is slow here
    AssignmentResult bcold = assign(c.net(), c.vdf(), {{dem2, 1.0, {}}}, ob);
    ob.warm_start = &lw;
    AssignmentResult bwarm = assign(c.net(), c.vdf(), {{dem2, 1.0, {}}}, ob);
    CHECK(bcold.converged && bwarm.converged);
    CHECK(bwarm.iterations < bcold.iterations);
    cold = assign(c.net(), c.vdf(), {{dem2, 1.0, {}}}, opts(Algorithm::kBush, 1e-12));
    CHECK(conservation_error(c, bwarm.link_flow, dem2) < 1e-7);
    CHECK(bwarm.beckmann - cold.beckmann <= bwarm.total_cost - bwarm.shortest_path_cost + 1e-9 * cold.beckmann);
    // Bushes of another network are refused.
    Case other = grid(9, 9, 20, 14);
    other.tail.swap(other.head);
    other.build();
    CHECK_THROWS(assign(other.net(), other.vdf(), {{dem2, 1.0, {}}}, o), InputError);
}

TEST_CASE("heavy congestion: extrapolation across sweeps reaches the same equilibrium") {
    // v/c well above 1 on most links, so that inner sweeps are slow and extrapolation triggers.
    Case c = grid(12, 12, 30, 41);
    std::vector<double> dem = random_demand(30, 7, 120.0);
    AssignmentOptions o = opts(Algorithm::kBush, 1e-10, 400);
    o.bush_extrapolation_after = 2;  // trigger early on this small case
    AssignmentResult with = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    o.bush_extrapolation_sweeps = 0;
    AssignmentResult without = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    CHECK(with.converged && without.converged);
    double vc = 0;
    for (std::size_t a = 0; a < c.cap.size(); ++a) vc += with.link_flow[a] / c.cap[a];
    CHECK(vc / static_cast<double>(c.cap.size()) > 1.0);
    CHECK_NEAR(with.beckmann, without.beckmann, 1e-9 * without.beckmann);
    CHECK(conservation_error(c, with.link_flow, dem) < 1e-7);
    for (double f : with.link_flow) CHECK(f >= 0.0);
    // Two classes, one with a fixed cost (its term enters the objective of the line search).
    std::vector<double> toll(c.t0.size());
    for (std::size_t a = 0; a < toll.size(); ++a) toll[a] = 0.3 * c.t0[a];
    std::vector<double> trucks(dem);
    for (double& x : trucks) x *= 0.2;
    const std::vector<TrafficClass> two{{dem, 1.0, {}}, {trucks, 2.5, toll}};
    o.bush_extrapolation_sweeps = 2;
    o.max_iterations = 250;
    AssignmentResult w2 = assign(c.net(), c.vdf(), two, o);
    o.bush_extrapolation_sweeps = 0;
    AssignmentResult n2 = assign(c.net(), c.vdf(), two, o);
    // Without extrapolation this case stalls near 1e-8 (still there after 400 iterations); with
    // it, it converges (167 iterations when written). Convexity: 0 <= Z(n2) - Z* <= TSTC - SPTC at n2.
    CHECK(w2.converged);
    CHECK(w2.iterations < n2.iterations);
    CHECK(n2.beckmann - w2.beckmann >= -1e-12 * n2.beckmann);
    CHECK(n2.beckmann - w2.beckmann <= n2.total_cost - n2.shortest_path_cost + 1e-12 * n2.beckmann);
    o.bush_extrapolation_limit = 0.0;
    CHECK_THROWS(assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o), InputError);
}

TEST_CASE("sweeps stopped by the bushes' excess cost: the same equilibrium, for any thread count") {
    // The rule only decides when an outer iteration stops sweeping; the fixed point is the same.
    Case c = grid(12, 12, 30, 43);
    std::vector<double> dem = random_demand(30, 3, 60.0);
    AssignmentOptions o = opts(Algorithm::kBush, 1e-11, 400);
    o.bush_sweep_excess_ratio = 0.0;  // off: the reduction rule and the cap only
    AssignmentResult off = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    o.bush_sweep_excess_ratio = 0.01;
    AssignmentResult on = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    o.threads = 2;  // the parallel bush improvement does not depend on the thread count
    AssignmentResult on2 = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    CHECK(off.converged && on.converged);
    CHECK(on2.link_flow == on.link_flow);
    CHECK_NEAR(on.beckmann, off.beckmann, 1e-10 * off.beckmann);
    CHECK(conservation_error(c, on.link_flow, dem) < 1e-7);
    for (std::size_t a = 0; a < on.link_flow.size(); ++a)
        CHECK_NEAR(on.link_flow[a], off.link_flow[a], 1e-5 * (1 + off.link_flow[a]));
    o.bush_sweep_excess_ratio = -1.0;
    CHECK_THROWS(assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o), InputError);
}

TEST_CASE("large bushes (arrays mapped from the OS): threads, warm starts and analysis agree") {
    // 4,900 nodes: each bush's flow array (8 bytes per link, over 4,899 links) is past
    // BushAllocator's 32 KiB and mapped, its node and link arrays (4 bytes each) are not.
    Case c = grid(70, 70, 6, 17);
    std::vector<double> dem = random_demand(6, 3, 400.0);
    AssignmentOptions o = opts(Algorithm::kBush, 1e-10, 200);
    AssignmentResult a = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    o.threads = 2;
    AssignmentResult b = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    CHECK(a.converged);
    CHECK(a.link_flow == b.link_flow);
    CHECK(a.gap_history == b.gap_history);
    CHECK(conservation_error(c, a.link_flow, dem) < 1e-7);
    CHECK(bush_memory_bytes(*a.bushes) > 6 * 4899 * 8);
    for (index_t org = 0; org < 6; ++org)
        for (index_t d = 0; d < 6; ++d) {
            double t = 0;
            for (const PathFlow& p : bush_path_flows(*a.bushes, 0, org, d, 1000000)) t += p.flow;
            CHECK_NEAR(t, org == d ? 0.0 : dem[static_cast<std::size_t>(org * 6 + d)], 1e-9 * (1 + t));
        }
    // A warm start copies the bushes (and their arrays); the equilibrium is unchanged.
    WarmStart w;
    w.bushes = a.bushes;
    o.warm_start = &w;
    AssignmentResult warm = assign(c.net(), c.vdf(), {{dem, 1.0, {}}}, o);
    CHECK(warm.converged);
    CHECK(warm.iterations <= 2);
    CHECK_NEAR(warm.beckmann, a.beckmann, 1e-10 * a.beckmann);
}

CHECK_MAIN()
