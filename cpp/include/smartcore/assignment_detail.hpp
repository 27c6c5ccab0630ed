// Internals shared by the assignment algorithms (assignment.cpp, assignment_bush.cpp). Not part of
// the public kernel API: include smartcore/assignment.hpp instead.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

// Bush arrays are mapped from the OS on POSIX systems (see BushAllocator), except under
// AddressSanitizer, which only guards heap blocks.
#if defined(__SANITIZE_ADDRESS__)
#define SMARTCORE_BUSH_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMARTCORE_BUSH_MMAP 0
#endif
#endif
#if !defined(SMARTCORE_BUSH_MMAP) && (defined(__unix__) || defined(__APPLE__))
#define SMARTCORE_BUSH_MMAP 1
#include <sys/mman.h>
#elif !defined(SMARTCORE_BUSH_MMAP)
#define SMARTCORE_BUSH_MMAP 0
#endif

#include "smartcore/assignment.hpp"
#include "smartcore/routing.hpp"

namespace smartcore::detail {

// One class's demand, preprocessed: for each origin with assignable demand, its destinations.
struct OdList {
    struct Origin {
        index_t zone;   // row of the demand matrix
        index_t node;   // network node of the origin
        std::int64_t first, last;  // range in dest_node / dest_demand
    };
    std::vector<Origin> origins;       // in zone order
    std::vector<index_t> dest_node;    // destination network node
    std::vector<index_t> dest_zone;    // destination zone (demand column)
    std::vector<double> dest_demand;   // demand x pce (PCE)
    double intrazonal = 0;             // vehicles
};

// Allocator of the bushes' arrays: blocks of 32 KiB and more are mapped from the OS and
// returned to it when freed; smaller ones come from operator new. Algorithm B rebuilds most
// bushes in every iteration with a different number of links, and frees each old array after
// allocating its replacement. With malloc, the freed arrays stayed as holes in the heap that
// larger arrays cannot reuse (and, with 2 threads, in another thread's arena): on Philadelphia
// (1,525 bushes, see assignment_bush.cpp) the first iteration's bush improvement grew the
// resident size by 180 MB over the 594 MB the bushes hold, and it stayed there. Mapped arrays
// leave no holes: the resident size is what the bushes hold. (A mapping is rounded up to whole
// pages, at most 12 % of a 32 KiB array, about 2 KiB per array on average.) Stateless, so any
// two instances are interchangeable.
template <class T>
struct BushAllocator {
    using value_type = T;
    static constexpr std::size_t kMapBytes = std::size_t{32} << 10;

    BushAllocator() noexcept = default;
    template <class U>
    BushAllocator(const BushAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
#if SMARTCORE_BUSH_MMAP
        const std::size_t bytes = n * sizeof(T);
        if (bytes >= kMapBytes) {
            void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) throw std::bad_alloc();
            return static_cast<T*>(p);
        }
#endif
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept {
#if SMARTCORE_BUSH_MMAP
        if (n * sizeof(T) >= kMapBytes) {
            munmap(p, n * sizeof(T));
            return;
        }
#else
        (void)n;
#endif
        ::operator delete(p);
    }
    friend bool operator==(const BushAllocator&, const BushAllocator&) noexcept { return true; }
    friend bool operator!=(const BushAllocator&, const BushAllocator&) noexcept { return false; }
};

template <class T>
using BushArray = std::vector<T, BushAllocator<T>>;

// One bush of Algorithm B: an acyclic subnetwork rooted at its origin that carries all of one
// (class, origin zone)'s flow (see assignment_bush.cpp). A bush is its topological order plus,
// for each position, the contiguous list of incoming bush links (link, tail, flow), so label
// scans are linear passes over three arrays.
struct Bush {
    int cls = 0;
    index_t zone = 0;                 // origin zone (demand row)
    index_t origin = 0;               // network node
    BushArray<index_t> order;         // topological order; order[0] == origin
    BushArray<index_t> in_first;      // incoming links of order[k]: [in_first[k], in_first[k+1])
    BushArray<index_t> in_link;       // network link
    BushArray<index_t> in_tail;       // its tail node
    BushArray<double> in_flow;        // this origin's flow on it (PCE)
    std::vector<index_t> dest;        // reachable destination nodes
    std::vector<index_t> dest_zone;   // their zones (demand columns)
    std::vector<double> dest_demand;  // their PCE demand
};

}  // namespace smartcore::detail

namespace smartcore {

// Algorithm B's solution as returned to callers (declared in assignment.hpp).
struct BushSolution {
    index_t num_nodes = 0, num_links = 0, first_thru_node = 0;
    std::vector<index_t> tail, head, zone_node;  // the topology it belongs to (checked on use)
    std::vector<double> pce;                     // per class
    std::vector<detail::Bush> bushes;
    std::vector<std::vector<index_t>> bush_of_zone;  // per class, per zone: bush index or -1
};

}  // namespace smartcore

namespace smartcore::detail {

// The validated problem: everything an algorithm reads.
struct Problem {
    const AssignmentNetwork* net = nullptr;
    LinkPerformance perf;
    std::vector<double> pce;                       // per class
    std::vector<std::vector<double>> fixed;        // per class, per link (zeros when absent)
    std::vector<bool> has_fixed;                   // per class
    std::vector<OdList> od;                        // per class
    std::vector<Span<const double>> demand;        // per class, Z x Z (the caller's arrays)
    index_t n = 0, m = 0;

    int num_classes() const { return static_cast<int>(pce.size()); }
};

// Validates all inputs and builds the Problem (InputError naming the field on bad input).
Problem make_problem(const AssignmentNetwork& net, const LinkPerformanceView& vdf,
                     const std::vector<TrafficClass>& classes, const AssignmentOptions& options);

// Calls body(worker, item) for items [0, count) on `threads` workers; worker w takes the items
// w, w + T, w + 2T, ... (a static schedule, so each worker's partial results are the same on
// every run). The calling thread is worker 0 and polls keep_going after each of its items;
// a false return or an exception stops all workers, and is rethrown (Cancelled for keep_going)
// after they have joined.
template <class Body>
void static_parallel_for(std::int64_t count, int threads, const std::function<bool()>& keep_going,
                         Body&& body) {
    if (count <= 0) return;
    if (threads < 1) threads = 1;
    if (threads > count) threads = static_cast<int>(count);
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&](int worker) {
        try {
            for (std::int64_t i = worker; i < count; i += threads) {
                if (stop.load(std::memory_order_relaxed)) return;
                body(worker, i);
                if (worker == 0 && keep_going && !keep_going()) throw Cancelled();
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            stop.store(true, std::memory_order_relaxed);
        }
    };
    std::vector<std::thread> pool;
    int started = 1;
    try {
        for (int w = 1; w < threads; ++w, ++started) pool.emplace_back(work, w);
    } catch (const std::system_error&) {
    }
    work(0);
    // Workers that could not be started: run their items on this thread (same static schedule,
    // so the per-worker partial results are unchanged).
    for (int w = started; w < threads; ++w) work(w);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

int resolve_thread_count(int threads);

// Shortest-path trees per origin on a routing index rebuilt for each set of link costs, with
// one Dijkstra workspace per worker. Used for all-or-nothing loadings and gap evaluations.
class TreeEngine {
public:
    TreeEngine(const Problem& problem, int threads);

    int threads() const { return threads_; }

    // All-or-nothing loading of class k on link costs `cost` (size m). flow (size m) is
    // overwritten with the PCE flows; returns SPTC etc. in an AonResult (its flow left empty).
    AonResult load(int k, Span<const double> cost, Span<double> flow,
                   const std::function<bool()>& keep_going);
    // The same for another OD list of class k (e.g. a demand increment of a warm start).
    AonResult load(const OdList& od, int k, Span<const double> cost, Span<double> flow,
                   const std::function<bool()>& keep_going);

    // Shortest path cost only (no loading): sum over class k's OD pairs of PCE demand x cost.
    // Per-origin sums are added in origin order, so the result does not depend on threads.
    double shortest_path_cost(int k, Span<const double> cost, const std::function<bool()>& keep_going);

    // Shortest-path trees of class k's origins (indices into od.origins): pred_link[i][v] for
    // network node v (-1 for the origin and unreachable nodes) from origins[i].
    std::vector<std::vector<index_t>> trees(int k, Span<const double> cost, Span<const std::int64_t> origins,
                                            const std::function<bool()>& keep_going);

private:
    const Problem& pb_;
    int threads_;
    RoutingGraph base_;
    std::vector<DijkstraQuery> query_;                // per worker
    std::vector<std::vector<double>> node_flow_;      // per worker, internal node ids
    std::vector<std::vector<index_t>> children_;      // per worker, internal node ids
    std::vector<std::vector<index_t>> stack_;         // per worker
    std::vector<std::vector<double>> partial_;        // per worker (worker 0 writes the output)
    std::vector<std::vector<index_t>> targets_;       // per worker
};

// Derivative of the Beckmann objective along x + lambda (s - x):
//   g(lambda) = sum_a (S_a - V_a) t_a(V_a + lambda (S_a - V_a)) + sum_k sum_a (s_ka - x_ka) f_ka
// (capital letters: totals over classes). Convex objective, so g is non-decreasing.
struct LineSearch {  // (used by the FW family and by Algorithm B's extrapolation)
    const Problem& pb;
    const std::vector<double>& V;
    const std::vector<double>& D;  // S - V
    double fixed_term;

    double g(double lambda, double* dg) const {
        double s = fixed_term, ds = 0.0;
        const std::size_t m = V.size();
        for (std::size_t a = 0; a < m; ++a) {
            const double d = D[a];
            if (d == 0.0) continue;
            double t, dt;
            pb.perf.time_and_derivative(static_cast<index_t>(a), V[a] + lambda * d, t, dt);
            s += d * t;
            ds += d * d * dt;
        }
        if (dg) *dg = ds;
        return s;
    }

    // Minimiser of the objective on [0, hi]: safeguarded Newton on g, falling back to bisection.
    double solve(double hi) const {
        double dg0;
        const double g0 = g(0.0, &dg0);
        if (!(g0 < 0.0)) return 0.0;  // not a descent direction
        double dg1;
        const double g1 = g(hi, &dg1);
        if (g1 <= 0.0) return hi;
        double lo = 0.0, up = hi, glo = g0, gup = g1;
        double lam = hi * g0 / (g0 - g1);  // secant start
        for (int it = 0; it < 100; ++it) {
            double dgl;
            const double gl = g(lam, &dgl);
            if (gl == 0.0) return lam;
            if (gl < 0.0) { lo = lam; glo = gl; } else { up = lam; gup = gl; }
            if (up - lo <= 1e-15 * std::max(1.0, up)) break;
            if (std::fabs(gl) <= 1e-14 * std::fabs(g0)) break;
            double next = dgl > 0.0 ? lam - gl / dgl : 0.5 * (lo + up);
            if (!(next > lo && next < up)) next = lo - glo * (up - lo) / (gup - glo);  // regula falsi
            if (!(next > lo && next < up)) next = 0.5 * (lo + up);
            lam = next;
        }
        return lam;
    }
};

// Wall clock in seconds since construction.
class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};

// Fills the result's summary fields (times, TSTT, TSTC, Beckmann, gap, per-class flows) from the
// classes' PCE flows at the final state, and SPTC given by the caller.
void finish_result(const Problem& pb, const std::vector<std::vector<double>>& class_pce_flow,
                   double sptc, AssignmentResult& res);

// Algorithm B (assignment_bush.cpp).
AssignmentResult assign_bush(const Problem& pb, const AssignmentOptions& options);

// Builds the OD list of a Z x Z demand (PCE = demand x pce; intrazonal pairs counted, not
// listed). Entries must already be validated.
OdList make_od_list(Span<const index_t> zone_node, Span<const double> demand, double pce);

// Validates a WarmStart against the problem (InputError "warm_start").
void check_warm_start(const Problem& pb, const WarmStart& warm);

}  // namespace smartcore::detail
