// Minimal test harness for the kernel's ctest executables (no third-party test framework, so the
// C++ tests build from a bare compiler and CMake).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace check {

struct Case {
    const char* name;
    std::function<void()> fn;
};

inline std::vector<Case>& registry() {
    static std::vector<Case> cases;
    return cases;
}
inline int& failures() {
    static int n = 0;
    return n;
}

struct Register {
    Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline int run_all() {
    int failed_cases = 0;
    for (auto& c : registry()) {
        const int before = failures();
        try {
            c.fn();
        } catch (const std::exception& e) {
            std::printf("  unexpected exception: %s\n", e.what());
            ++failures();
        }
        const bool ok = failures() == before;
        if (!ok) ++failed_cases;
        std::printf("[%s] %s\n", ok ? "PASS" : "FAIL", c.name);
    }
    std::printf("%zu passed, %d failed\n", registry().size() - static_cast<std::size_t>(failed_cases),
                failed_cases);
    return failed_cases == 0 ? 0 : 1;
}

}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)
#define TEST_CASE(name)                                                             \
    static void CHECK_CAT(test_fn_, __LINE__)();                                    \
    static check::Register CHECK_CAT(test_reg_, __LINE__)(name, CHECK_CAT(test_fn_, __LINE__)); \
    static void CHECK_CAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);     \
            ++check::failures();                                                       \
        }                                                                              \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                             \
    do {                                                                                  \
        const double check_a_ = (a), check_b_ = (b);                                      \
        if (!(std::fabs(check_a_ - check_b_) <= (tol))) {                                 \
            std::printf("  %s:%d: %s = %.17g, expected %.17g (tol %g)\n", __FILE__, __LINE__, \
                        #a, check_a_, check_b_, static_cast<double>(tol));                \
            ++check::failures();                                                          \
        }                                                                                 \
    } while (0)

#define CHECK_THROWS(expr, type)                                                        \
    do {                                                                                \
        bool check_thrown_ = false;                                                     \
        try {                                                                           \
            (void)(expr);                                                               \
        } catch (const type&) {                                                         \
            check_thrown_ = true;                                                       \
        }                                                                               \
        if (!check_thrown_) {                                                           \
            std::printf("  %s:%d: %s did not throw %s\n", __FILE__, __LINE__, #expr, #type); \
            ++check::failures();                                                        \
        }                                                                               \
    } while (0)

#define CHECK_MAIN() \
    int main() { return check::run_all(); }
