// Link performance (volume-delay) functions for static traffic assignment.
//
// A link performance function gives the travel time of a link as a function of its flow,
// t_a(v_a). Assignment needs, per link, the time, its derivative (Newton flow shifts, conjugate
// directions, line searches) and its integral from 0 (the Beckmann objective). Functions here:
//
//   * BPR (Bureau of Public Roads, Traffic Assignment Manual, U.S. Department of Commerce, 1964):
//       t(v) = t0 * (1 + alpha * (v / c)^beta)
//     with per-link alpha (TNTP "B") and beta (TNTP "Power"). beta = 0 is a constant cost
//     t0 * (1 + alpha), including at v = 0 (0^0 = 1 here, by definition, not by accident of pow).
//   * Conical (Spiess, H., "Conical volume-delay functions", Transportation Science 24(2),
//     153-158, 1990):
//       t(v) = t0 * (2 + sqrt(a^2 (1 - x)^2 + b^2) - a (1 - x) - b),  x = v / c,
//       b = (2a - 1) / (2a - 2),  a > 1,
//     which has t(0) = t0, t(c) = 2 t0, is strictly increasing and convex, and (unlike BPR) grows
//     only linearly beyond capacity, so early iterations of an assignment do not see absurd times.
//
// Extension point: a new function is a new VdfKind plus one case in each of LinkPerformance's
// evaluation methods (value, derivative, integral; keep them consistent: the integral's
// derivative is the time and the time's derivative is the derivative). Everything else
// (all-or-nothing, Frank-Wolfe family, Algorithm B) only calls LinkPerformance.
//
// Units: times are in the unit of free_flow_time (minutes for most TNTP networks); flows and
// capacities in any common flow unit (veh/h or PCE/h).
//
// Thread-safety: LinkPerformance is immutable after construction; evaluations are const.
#pragma once

#include <cmath>
#include <vector>

#include "smartcore/common.hpp"

namespace smartcore {

enum class VdfKind : int {
    kBpr = 0,      // BPR 1964, per-link alpha and beta
    kConical = 1,  // Spiess 1990, per-link alpha (> 1); beta is derived from alpha
};

// Non-owning per-link parameters. All spans have num_links entries.
struct LinkPerformanceView {
    VdfKind kind = VdfKind::kBpr;
    Span<const double> free_flow_time;  // t0 >= 0, finite (time unit of the assignment)
    Span<const double> capacity;        // c > 0, finite
    Span<const double> alpha;           // BPR: alpha >= 0; conical: alpha > 1
    Span<const double> beta;            // BPR: beta >= 0 (ignored by conical; may be empty there)
};

// Compact, validated copy of the per-link parameters, laid out for evaluation in hot loops.
class LinkPerformance {
public:
    LinkPerformance() = default;
    // Validates every parameter (InputError naming "free_flow_time", "capacity", "alpha" or
    // "beta" and the first offending link).
    explicit LinkPerformance(const LinkPerformanceView& view);

    VdfKind kind() const { return kind_; }
    index_t num_links() const { return static_cast<index_t>(p_.size()); }

    // True when the link's time does not depend on its flow (t0 = 0, or BPR alpha = 0 or
    // beta = 0). Such links have no unique equilibrium flow (NOTES.md item 7).
    bool is_constant(index_t a) const { return p_[a].constant; }

    // Travel time at flow v. Negative v (rounding) is treated as 0.
    double time(index_t a, double v) const {
        const P& p = p_[a];
        if (p.constant) return p.t_const;
        const double x = (v > 0.0 ? v : 0.0) * p.inv_c;
        if (kind_ == VdfKind::kBpr) return p.t0 + p.t0a * power(p, x);
        return conical_time(p, x);
    }

    // d t / d v at flow v (>= 0). For BPR with 0 < beta < 1 the derivative is unbounded at v = 0;
    // it is evaluated at v / c = 1e-8 there so that Newton steps stay finite.
    double derivative(index_t a, double v) const {
        const P& p = p_[a];
        if (p.constant) return 0.0;
        double x = (v > 0.0 ? v : 0.0) * p.inv_c;
        if (kind_ == VdfKind::kBpr) {
            if (p.beta < 1.0 && x < 1e-8) x = 1e-8;
            return p.t0a * p.beta * power_minus_one(p, x) * p.inv_c;
        }
        const double u = p.alpha * (1.0 - x);
        return p.t0 * p.inv_c * (p.alpha - p.alpha * u / std::sqrt(u * u + p.b2));
    }

    // Time and derivative together (one power evaluation for BPR).
    void time_and_derivative(index_t a, double v, double& t, double& d) const {
        const P& p = p_[a];
        if (p.constant) {
            t = p.t_const;
            d = 0.0;
            return;
        }
        double x = (v > 0.0 ? v : 0.0) * p.inv_c;
        if (kind_ == VdfKind::kBpr) {
            if (p.ibeta >= 1) {
                const double xm1 = ipow(x, p.ibeta - 1);  // x^(beta-1)
                t = p.t0 + p.t0a * xm1 * x;
                d = p.t0a * p.beta * xm1 * p.inv_c;
            } else {
                t = p.t0 + p.t0a * power(p, x);
                if (p.beta < 1.0 && x < 1e-8) x = 1e-8;
                d = p.t0a * p.beta * power_minus_one(p, x) * p.inv_c;
            }
            return;
        }
        t = conical_time(p, x);
        const double u = p.alpha * (1.0 - x);
        d = p.t0 * p.inv_c * (p.alpha - p.alpha * u / std::sqrt(u * u + p.b2));
    }

    // Integral of the time from 0 to v (the link's term of the Beckmann objective).
    double integral(index_t a, double v) const {
        const P& p = p_[a];
        if (v <= 0.0) return 0.0;
        if (p.constant) return p.t_const * v;
        const double x = v * p.inv_c;
        if (kind_ == VdfKind::kBpr) return p.t0 * v + p.t0a * v * power(p, x) / (p.beta + 1.0);
        // c t0 [ (2 - b) x + (F(a) - F(a (1 - x))) / a - a (x - x^2 / 2) ],
        // F(u) = (u sqrt(u^2 + b^2) + b^2 asinh(u / b)) / 2 (antiderivative of sqrt(u^2 + b^2)).
        const double c = 1.0 / p.inv_c;
        const double u0 = p.alpha, u1 = p.alpha * (1.0 - x);
        const double f = conical_F(p, u0) - conical_F(p, u1);
        return c * p.t0 * ((2.0 - p.b) * x + f / p.alpha - p.alpha * (x - 0.5 * x * x));
    }

private:
    struct P {
        double t0 = 0;       // free-flow time
        double t0a = 0;      // BPR: t0 * alpha
        double inv_c = 0;    // 1 / capacity
        double beta = 0;     // BPR power
        double alpha = 0;    // conical alpha
        double b = 0, b2 = 0;  // conical beta and beta^2
        double t_const = 0;  // time of a constant-time link
        int ibeta = -1;      // BPR power when it is a small integer (fast path), else -1
        bool constant = false;
    };

    static double ipow(double x, int n) {
        double r = 1.0;
        for (int i = 0; i < n; ++i) r *= x;
        return r;
    }
    static double power(const P& p, double x) {
        return p.ibeta >= 0 ? ipow(x, p.ibeta) : std::pow(x, p.beta);
    }
    static double power_minus_one(const P& p, double x) {
        return p.ibeta >= 1 ? ipow(x, p.ibeta - 1) : std::pow(x, p.beta - 1.0);
    }
    static double conical_time(const P& p, double x) {
        const double u = p.alpha * (1.0 - x);
        return p.t0 * (2.0 + std::sqrt(u * u + p.b2) - u - p.b);
    }
    static double conical_F(const P& p, double u) {
        return 0.5 * (u * std::sqrt(u * u + p.b2) + p.b2 * std::asinh(u / p.b));
    }

    VdfKind kind_ = VdfKind::kBpr;
    std::vector<P> p_;
};

}  // namespace smartcore
