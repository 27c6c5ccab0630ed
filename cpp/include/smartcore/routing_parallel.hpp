// A minimal fork-join loop for the routing kernels: items handed out dynamically to a fixed number
// of threads, progress and cancellation on the calling thread, first exception propagated. Plus
// the plumbing the batched queries of routing.cpp and ch.cpp share: one workspace per worker, and
// the outputs of a batch of pair queries.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "smartcore/common.hpp"
#include "smartcore/routing.hpp"

namespace smartcore {

// threads <= 0 -> hardware concurrency; never more threads than items; at least 1.
inline int resolve_threads(int threads, std::int64_t items) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (items < threads) threads = static_cast<int>(std::max<std::int64_t>(1, items));
    return threads;
}

// Calls body(worker, item) for every item in [0, count), worker in [0, threads). The calling
// thread is worker 0. Items are claimed one at a time from an atomic counter (searches differ
// widely in cost, so static chunks would leave threads idle); every item must write only its own
// outputs, which makes the result independent of the schedule. `progress` runs on the calling
// thread only, after each of its items; when it returns false, or a body throws, the remaining
// items are skipped, and after all threads have joined the exception (Cancelled for progress) is
// rethrown.
template <class Body>
void parallel_for(std::int64_t count, int threads, const ProgressFn& progress, Body&& body) {
    if (count <= 0) return;
    threads = resolve_threads(threads, count);
    std::atomic<std::int64_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    std::mutex error_mutex;

    auto work = [&](int worker) {
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed)) return;
                const std::int64_t item = next.fetch_add(1, std::memory_order_relaxed);
                if (item >= count) return;
                body(worker, item);
                const std::int64_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
                if (worker == 0 && progress && !progress(d, count)) throw Cancelled();
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            stop.store(true, std::memory_order_relaxed);
        }
    };

    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads - 1));
    try {
        for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
    } catch (const std::system_error&) {
        // Could not start another thread: the ones already running (and this one) do the rest.
    }
    work(0);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    if (progress && !progress(count, count)) throw Cancelled();
}

// Variable-length outputs of a parallel loop, made schedule-independent: the worker handling item
// i appends its output to its own buffer between begin(i, worker) and end(i), and assemble()
// concatenates the outputs in item order.
template <class T>
class OrderedConcat {
public:
    OrderedConcat(std::size_t items, int workers)
        : where_(items), buffers_(static_cast<std::size_t>(workers)) {}
    std::vector<T>& begin(std::size_t item, int worker) {
        auto& buf = buffers_[static_cast<std::size_t>(worker)];
        where_[item] = Where{worker, buf.size(), 0};
        return buf;
    }
    void end(std::size_t item) {
        Where& w = where_[item];
        w.length = buffers_[static_cast<std::size_t>(w.worker)].size() - w.start;
    }
    // The output of one item (valid until the next begin() of its worker).
    Span<const T> item(std::size_t i) const {
        const Where& w = where_[i];
        return {buffers_[static_cast<std::size_t>(w.worker)].data() + w.start, w.length};
    }
    // offsets gets items + 1 entries.
    void assemble(std::vector<std::int64_t>& offsets, std::vector<T>& out) const {
        offsets.assign(where_.size() + 1, 0);
        for (std::size_t i = 0; i < where_.size(); ++i)
            offsets[i + 1] = offsets[i] + static_cast<std::int64_t>(where_[i].length);
        out.resize(static_cast<std::size_t>(offsets.back()));
        for (std::size_t i = 0; i < where_.size(); ++i) {
            const auto& b = buffers_[static_cast<std::size_t>(where_[i].worker)];
            std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(where_[i].start), where_[i].length,
                        out.begin() + offsets[i]);
        }
    }

private:
    struct Where {
        int worker = 0;
        std::size_t start = 0, length = 0;
    };
    std::vector<Where> where_;
    std::vector<std::vector<T>> buffers_;
};

// One workspace per worker of a parallel loop: a worker's first get() takes one, sized `size`,
// from `pool` (from a pool of this object's own when null); all go back to it when this dies.
template <class Pool>
class WorkerSpaces {
public:
    WorkerSpaces(Pool* pool, int workers, index_t size)
        : pool_(pool ? *pool : own_), taken_(static_cast<std::size_t>(workers)), size_(size) {}
    // The worker's workspace; setup(workspace) runs once, when the worker takes it.
    template <class Setup>
    auto& get(int worker, Setup&& setup) {
        auto& handle = taken_[static_cast<std::size_t>(worker)];
        if (!handle) {
            handle = pool_.get(size_);
            setup(*handle);
        }
        return *handle;
    }
    auto& get(int worker) {
        return get(worker, [](auto&) {});
    }

private:
    Pool own_;  // declared first: destroyed after the handles that may go back to it
    Pool& pool_;
    std::vector<typename Pool::Handle> taken_;
    index_t size_;
};

// A batch of pair queries (origins[i], dests[i]), validated by the caller, answered in parallel.
// The Batch splits the queries into work items (a query each, or the queries that share an
// origin) and has
//   std::int64_t items() const;  int workers() const;  // workers: resolve_threads(..., items())
//   void operator()(int worker, std::int64_t item, Span<double> cost, OrderedConcat<index_t>* paths);
// which sets cost[i] for every query i of the item and, unless paths is null, appends the links
// of path i between paths->begin(i, worker) and paths->end(i).
template <class Batch>
PathBatch answer_paths(std::size_t queries, Batch& batch, const ProgressFn& progress) {
    PathBatch out;
    out.cost.assign(queries, kInf);
    out.offsets.assign(queries + 1, 0);
    if (queries == 0) return out;
    OrderedConcat<index_t> paths(queries, batch.workers());
    const Span<double> cost(out.cost);
    parallel_for(batch.items(), batch.workers(), progress,
                 [&](int worker, std::int64_t item) { batch(worker, item, cost, &paths); });
    paths.assemble(out.offsets, out.links);
    return out;
}

// Costs only, into out (one per query).
template <class Batch>
void answer_costs(Span<double> out, Batch& batch, const ProgressFn& progress) {
    parallel_for(batch.items(), batch.workers(), progress,
                 [&](int worker, std::int64_t item) { batch(worker, item, out, nullptr); });
}

}  // namespace smartcore
