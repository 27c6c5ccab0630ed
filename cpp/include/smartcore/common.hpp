// Shared vocabulary of the smartcore kernel: index types, sentinels, non-owning array views,
// the kernel's exception type and the progress/cancellation callback.
//
// The kernel is plain C++17: no Python, no global state, never prints. Every function takes
// non-owning views of contiguous arrays owned by the caller (numpy arrays, zero-copy) and is safe
// to call concurrently on distinct outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

namespace smartcore {

// Dense node and link indices are 32-bit: 2^31-1 nodes is far beyond any road network, and
// halving the index width doubles what fits in cache during graph searches.
using index_t = std::int32_t;
static_assert(sizeof(index_t) == 4, "dense indices are 32-bit; the Python side relies on int32");

inline constexpr index_t kInvalidIndex = -1;
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// A non-owning view of a contiguous array (C++17 has no std::span).
template <class T>
struct Span {
    T* ptr = nullptr;
    std::size_t len = 0;

    constexpr Span() = default;
    constexpr Span(T* p, std::size_t n) : ptr(p), len(n) {}
    template <class C>
    Span(C& c) : ptr(c.data()), len(c.size()) {}  // NOLINT: implicit from vectors is intended
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    constexpr Span(Span<U> o) : ptr(o.ptr), len(o.len) {}

    constexpr T& operator[](std::size_t i) const { return ptr[i]; }
    constexpr std::size_t size() const { return len; }
    constexpr bool empty() const { return len == 0; }
    constexpr T* begin() const { return ptr; }
    constexpr T* end() const { return ptr + len; }
    constexpr T* data() const { return ptr; }
};

// Invalid input detected by the kernel. `field` names the offending argument or array so that the
// bindings can raise a Python InputError naming it; `index` is the offending element (or -1).
class InputError : public std::invalid_argument {
public:
    InputError(std::string field, std::int64_t index, const std::string& what)
        : std::invalid_argument(what), field_(std::move(field)), index_(index) {}
    const std::string& field() const noexcept { return field_; }
    std::int64_t index() const noexcept { return index_; }

private:
    std::string field_;
    std::int64_t index_;
};

// Thrown when a long computation is cancelled through its progress callback.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

// Progress callback: called with (done, total) from the calling thread only; returning false
// requests cancellation. An empty function means "no progress reporting".
using ProgressFn = std::function<bool(std::int64_t done, std::int64_t total)>;

}  // namespace smartcore
