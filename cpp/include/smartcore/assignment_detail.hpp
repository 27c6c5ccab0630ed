// Internals shared by the assignment algorithms (assignment.cpp, assignment_bush.cpp). Not part of
// the public kernel API: include smartcore/assignment.hpp instead.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

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
    std::vector<double> dest_demand;   // demand x pce (PCE)
    double intrazonal = 0;             // vehicles
};

// The validated problem: everything an algorithm reads.
struct Problem {
    const AssignmentNetwork* net = nullptr;
    LinkPerformance perf;
    std::vector<double> pce;                       // per class
    std::vector<std::vector<double>> fixed;        // per class, per link (zeros when absent)
    std::vector<bool> has_fixed;                   // per class
    std::vector<OdList> od;                        // per class
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

    // Shortest path cost only (no loading): sum over class k's OD pairs of PCE demand x cost.
    // Per-origin sums are added in origin order, so the result does not depend on threads.
    double shortest_path_cost(int k, Span<const double> cost, const std::function<bool()>& keep_going);

    // Shortest-path trees of class k's origins [first, last): pred_link[o - first][v] for network
    // node v (-1 for the origin and unreachable nodes).
    std::vector<std::vector<index_t>> trees(int k, Span<const double> cost, std::int64_t first,
                                            std::int64_t last, const std::function<bool()>& keep_going);

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

}  // namespace smartcore::detail
