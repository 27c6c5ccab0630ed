// A minimal fork-join loop for the routing kernels: items handed out dynamically to a fixed number
// of threads, progress and cancellation on the calling thread, first exception propagated.
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

}  // namespace smartcore
