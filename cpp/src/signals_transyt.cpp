// TRANSYT-style cyclic flow profile model and hill-climbing optimiser.
// See smartcore/signals_transyt.hpp for the model, the literature and the conventions.
#include "smartcore/signals_transyt.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <queue>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace smartcore::signals {

namespace {

[[noreturn]] void fail(const char* field, std::size_t index, const std::string& msg) {
    throw InputError(field, static_cast<std::int64_t>(index),
                     std::string(field) + "[" + std::to_string(index) + "]: " + msg);
}

std::size_t sz(index_t i) { return static_cast<std::size_t>(i); }

// Counter-based generator (splitmix64): a restart's random offsets depend only on (seed, restart).
struct SplitMix {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

// HCM 2000 Eq. 16-12 incremental (random + oversaturation) delay, s/veh.
double hcm_d2(double X, double c, double k, double I, double T) {
    const double xm1 = X - 1.0;
    return 900.0 * T * (xm1 + std::sqrt(xm1 * xm1 + 8.0 * k * I * X / (c * T)));
}

// Read-only data shared by every state: plan, feeds, options, derived topology.
struct Model {
    const PlanView& plan;
    const FeedView& feeds;
    TransytOptions opt;
    std::size_t n_int = 0, n_group = 0, n_feed = 0;
    std::vector<index_t> int_of_group;  // [n_group]
    std::vector<index_t> feed_to;       // [n_feed] receiving lane group
    std::vector<index_t> down_first;    // [n_group + 1] CSR of feed entries leaving each group
    std::vector<index_t> down_entry;
    std::vector<index_t> rank;          // [n_group] topological rank (worklist priority)
    std::vector<double> fed_nominal;    // [n_group] sum share * v_from

    Model(const PlanView& p, const FeedView& f, const TransytOptions& o) : plan(p), feeds(f), opt(o) {
        n_int = plan.num_intersections();
        n_group = plan.num_groups();
        n_feed = feeds.feed_from.size();
        int_of_group.resize(n_group);
        for (std::size_t i = 0; i < n_int; ++i)
            for (index_t g = plan.group_first[i]; g < plan.group_first[i + 1]; ++g)
                int_of_group[sz(g)] = static_cast<index_t>(i);
        feed_to.resize(n_feed);
        fed_nominal.assign(n_group, 0.0);
        for (std::size_t g = 0; g < n_group; ++g)
            for (index_t e = feeds.feed_first[g]; e < feeds.feed_first[g + 1]; ++e) {
                feed_to[sz(e)] = static_cast<index_t>(g);
                fed_nominal[g] += feeds.feed_share[sz(e)] * plan.flow_vph[sz(feeds.feed_from[sz(e)])];
            }
        down_first.assign(n_group + 1, 0);
        for (std::size_t e = 0; e < n_feed; ++e) ++down_first[sz(feeds.feed_from[e]) + 1];
        for (std::size_t g = 0; g < n_group; ++g) down_first[g + 1] += down_first[g];
        down_entry.resize(n_feed);
        std::vector<index_t> fill(down_first.begin(), down_first.end() - 1);
        for (std::size_t e = 0; e < n_feed; ++e) down_entry[sz(fill[sz(feeds.feed_from[e])]++)] = static_cast<index_t>(e);
        // Kahn's order; when only loops remain, release the group with the fewest unprocessed
        // feeders (lowest index on ties): deterministic cycle breaking.
        rank.assign(n_group, -1);
        std::vector<index_t> indeg(n_group, 0);
        for (std::size_t e = 0; e < n_feed; ++e)
            if (feeds.feed_from[e] != feed_to[e]) ++indeg[sz(feed_to[e])];
        using Item = std::pair<index_t, index_t>;  // (indegree, group)
        std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
        for (std::size_t g = 0; g < n_group; ++g) heap.emplace(indeg[g], static_cast<index_t>(g));
        index_t next_rank = 0;
        while (!heap.empty()) {
            const auto [d, g] = heap.top();
            heap.pop();
            if (rank[sz(g)] >= 0 || d != indeg[sz(g)]) continue;  // stale entry
            rank[sz(g)] = next_rank++;
            for (index_t k = down_first[sz(g)]; k < down_first[sz(g) + 1]; ++k) {
                const index_t to = feed_to[sz(down_entry[sz(k)])];
                if (rank[sz(to)] < 0 && to != g) heap.emplace(--indeg[sz(to)], to);
            }
        }
    }
};

struct GroupStats {
    double v_in = 0, cap_vph = 0, x = 0, du = 0, dr = 0, stops = 0, maxq = 0, aog = 0, pi = 0;
};

// Mutable evaluation state of one plan (one per thread).
class State {
public:
    State(const Model& m, std::vector<double> green, std::vector<double> offset)
        : m_(m), green_(std::move(green)), offset_(std::move(offset)) {
        const auto& plan = m_.plan;
        cycle_.resize(m_.n_int);
        steps_.resize(m_.n_int);
        dt_.resize(m_.n_int);
        for (std::size_t i = 0; i < m_.n_int; ++i) {
            double C = 0.0;
            for (index_t p = plan.phase_first[i]; p < plan.phase_first[i + 1]; ++p)
                C += green_[sz(p)] + plan.yellow_s[sz(p)] + plan.all_red_s[sz(p)];
            if (!(C > 0.0 && std::isfinite(C))) fail("green_s", sz(plan.phase_first[i]), "intersection has no cycle");
            cycle_[i] = C;
            steps_[i] = std::max<std::int64_t>(1, std::llround(C / m_.opt.step_s));
            dt_[i] = C / static_cast<double>(steps_[i]);
            offset_[i] = wrap(offset_[i], C);
        }
        prof_first_.assign(m_.n_group + 1, 0);
        for (std::size_t g = 0; g < m_.n_group; ++g)
            prof_first_[g + 1] = prof_first_[g] + steps_[sz(m_.int_of_group[g])];
        const auto total = static_cast<std::size_t>(prof_first_.back());
        cap_.assign(total, 0.0);
        gfrac_.assign(total, 0.0);
        in_.assign(total, 0.0);
        out_.assign(total, 0.0);
        queue_.assign(total, 0.0);
        disp_first_.assign(m_.n_feed + 1, 0);
        for (std::size_t e = 0; e < m_.n_feed; ++e) {
            const index_t g = m_.feed_to[e];
            disp_first_[e + 1] = disp_first_[e] + (same_steps(e) ? steps_[sz(m_.int_of_group[sz(g)])] : 0);
        }
        disp_.assign(static_cast<std::size_t>(disp_first_.back()), 0.0);
        stats_.assign(m_.n_group, GroupStats{});
        in_queue_.assign(m_.n_group, 0);
        saved_group_.assign(m_.n_group, -1);
        saved_entry_.assign(m_.n_feed, -1);
        scratch_.reserve(256);
    }

    static double wrap(double x, double C) {
        double r = std::fmod(x, C);
        if (r < 0.0) r += C;
        if (r >= C) r = 0.0;
        return r;
    }

    // Full evaluation from scratch (outflows start as capacity-limited uniform departures).
    double full() {
        journal_on_ = false;
        for (std::size_t i = 0; i < m_.n_int; ++i) build_caps(static_cast<index_t>(i));
        for (std::size_t g = 0; g < m_.n_group; ++g) {
            const auto a = static_cast<std::size_t>(prof_first_[g]), b = static_cast<std::size_t>(prof_first_[g + 1]);
            const double dt = dt_[sz(m_.int_of_group[g])];
            double capsum = 0.0;
            for (std::size_t k = a; k < b; ++k) capsum += cap_[k];
            const double per = std::min(m_.plan.flow_vph[g] * dt / 3600.0, capsum / static_cast<double>(b - a));
            std::fill(out_.begin() + static_cast<std::ptrdiff_t>(a), out_.begin() + static_cast<std::ptrdiff_t>(b), per);
            stats_[g] = GroupStats{};
        }
        for (std::size_t e = 0; e < m_.n_feed; ++e) compute_disp(static_cast<index_t>(e));
        total_pi_ = 0.0;
        for (std::size_t g = 0; g < m_.n_group; ++g) push(static_cast<index_t>(g));
        settle();
        total_pi_ = 0.0;
        for (std::size_t g = 0; g < m_.n_group; ++g) total_pi_ += stats_[g].pi;
        return total_pi_;
    }

    double pi() const { return total_pi_; }
    const std::vector<double>& green() const { return green_; }
    const std::vector<double>& offset() const { return offset_; }
    double cycle(std::size_t i) const { return cycle_[i]; }
    std::int64_t steps(std::size_t i) const { return steps_[i]; }
    double dt(std::size_t i) const { return dt_[i]; }
    std::int64_t updates() const { return updates_; }
    const GroupStats& stats(std::size_t g) const { return stats_[g]; }
    const std::vector<std::int64_t>& prof_first() const { return prof_first_; }
    const std::vector<double>& in() const { return in_; }
    const std::vector<double>& out() const { return out_; }
    const std::vector<double>& queue() const { return queue_; }

    // Whether every lane group of intersection i gets a positive effective green at these greens.
    bool greens_ok(index_t i) const {
        for (index_t g = m_.plan.group_first[sz(i)]; g < m_.plan.group_first[sz(i) + 1]; ++g) {
            double eff = 0.0;
            windows(sz(g), [&](double, double len) { eff += len; });
            if (!(eff > 1e-9)) return false;
        }
        return true;
    }

    // --- moves (incremental, with undo) ----------------------------------------------------------
    // Shift intersection i's offset by delta seconds; returns the PI change.
    double try_offset(index_t i, double delta) {
        begin();
        saved_offset_ = offset_[sz(i)];
        moved_int_ = i;
        offset_[sz(i)] = wrap(offset_[sz(i)] + delta, cycle_[sz(i)]);
        touch_offset(i);
        settle();
        return total_pi_ - pi_before_;
    }

    // Move `delta` seconds of green from phase q to phase p (p, q consecutive phases of i; when q
    // is phase 0, its start moves, so the offset moves with it). Returns NaN when the move breaks
    // a minimum/maximum green or leaves a lane group without effective green.
    double try_split(index_t i, index_t p, index_t q, double delta) {
        const auto& plan = m_.plan;
        const double gp = green_[sz(p)] + delta, gq = green_[sz(q)] - delta;
        if (gp < plan.min_green_s[sz(p)] - 1e-9 || gq < plan.min_green_s[sz(q)] - 1e-9 ||
            gp > plan.max_green_s[sz(p)] + 1e-9 || gq > plan.max_green_s[sz(q)] + 1e-9 || gp < 0.0 || gq < 0.0)
            return std::numeric_limits<double>::quiet_NaN();
        begin();
        moved_int_ = i;
        saved_offset_ = offset_[sz(i)];
        saved_gp_ = green_[sz(p)];
        saved_gq_ = green_[sz(q)];
        moved_p_ = p;
        moved_q_ = q;
        green_[sz(p)] = gp;
        green_[sz(q)] = gq;
        const bool wraps = q == plan.phase_first[sz(i)];
        if (wraps) offset_[sz(i)] = wrap(offset_[sz(i)] + delta, cycle_[sz(i)]);
        if (!greens_ok(i)) {
            green_[sz(p)] = saved_gp_;
            green_[sz(q)] = saved_gq_;
            offset_[sz(i)] = saved_offset_;
            moved_int_ = -1;
            moved_p_ = moved_q_ = -1;
            journal_on_ = false;
            return std::numeric_limits<double>::quiet_NaN();
        }
        for (index_t g = plan.group_first[sz(i)]; g < plan.group_first[sz(i) + 1]; ++g) save_group(g);
        build_caps(i);
        if (wraps) {
            touch_offset(i);
        } else {
            for (index_t g = plan.group_first[sz(i)]; g < plan.group_first[sz(i) + 1]; ++g) push(g);
        }
        settle();
        return total_pi_ - pi_before_;
    }

    void accept() {
        journal_on_ = false;
        clear_journal();
        moved_int_ = moved_p_ = moved_q_ = -1;
    }

    void reject() {
        journal_on_ = false;
        for (std::size_t k = 0; k < jgroups_.size(); ++k) {
            const index_t g = jgroups_[k];
            const auto a = static_cast<std::size_t>(prof_first_[sz(g)]);
            const auto n = static_cast<std::size_t>(prof_first_[sz(g) + 1]) - a;
            const std::size_t base = jgroup_pos_[k];
            std::copy_n(jbuf_.begin() + static_cast<std::ptrdiff_t>(base), n, in_.begin() + static_cast<std::ptrdiff_t>(a));
            std::copy_n(jbuf_.begin() + static_cast<std::ptrdiff_t>(base + n), n, out_.begin() + static_cast<std::ptrdiff_t>(a));
            std::copy_n(jbuf_.begin() + static_cast<std::ptrdiff_t>(base + 2 * n), n, queue_.begin() + static_cast<std::ptrdiff_t>(a));
            std::copy_n(jbuf_.begin() + static_cast<std::ptrdiff_t>(base + 3 * n), n, cap_.begin() + static_cast<std::ptrdiff_t>(a));
            std::copy_n(jbuf_.begin() + static_cast<std::ptrdiff_t>(base + 4 * n), n, gfrac_.begin() + static_cast<std::ptrdiff_t>(a));
            stats_[sz(g)] = jstats_[k];
        }
        for (std::size_t k = 0; k < jentries_.size(); ++k) {
            const index_t e = jentries_[k];
            const auto a = static_cast<std::size_t>(disp_first_[sz(e)]);
            const auto n = static_cast<std::size_t>(disp_first_[sz(e) + 1]) - a;
            std::copy_n(jbuf_.begin() + static_cast<std::ptrdiff_t>(jentry_pos_[k]), n,
                        disp_.begin() + static_cast<std::ptrdiff_t>(a));
        }
        if (moved_int_ >= 0) offset_[sz(moved_int_)] = saved_offset_;
        if (moved_p_ >= 0) {
            green_[sz(moved_p_)] = saved_gp_;
            green_[sz(moved_q_)] = saved_gq_;
        }
        total_pi_ = pi_before_;
        clear_journal();
        moved_int_ = moved_p_ = moved_q_ = -1;
    }

private:
    bool same_steps(std::size_t e) const {
        return steps_[sz(m_.int_of_group[sz(m_.feeds.feed_from[e])])] == steps_[sz(m_.int_of_group[sz(m_.feed_to[e])])];
    }

    // Calls f(start, length) for every effective green window of lane group g (local time, s).
    template <class F>
    void windows(std::size_t g, F&& f) const {
        const auto& plan = m_.plan;
        const std::size_t i = sz(m_.int_of_group[g]);
        const index_t p0 = plan.phase_first[i], p1 = plan.phase_first[i + 1];
        const index_t n = p1 - p0;
        const index_t a = plan.serve_first[g], b = plan.serve_first[g + 1];
        if (b - a == n) {  // served by every phase: green all cycle
            f(0.0, cycle_[i]);
            return;
        }
        auto served = [&](index_t p) {
            for (index_t k = a; k < b; ++k)
                if (plan.serve_phase[sz(k)] == p) return true;
            return false;
        };
        auto dur = [&](index_t p) { return green_[sz(p)] + plan.yellow_s[sz(p)] + plan.all_red_s[sz(p)]; };
        for (index_t k = a; k < b; ++k) {
            const index_t p = plan.serve_phase[sz(k)];
            const index_t prev = p0 + (p - p0 + n - 1) % n;
            if (served(prev)) continue;  // not the start of a run
            double start = 0.0;
            for (index_t r = p0; r < p; ++r) start += dur(r);
            double len = 0.0;
            index_t q = p, last = p;
            while (served(q)) {
                len += dur(q);
                last = q;
                q = p0 + (q - p0 + 1) % n;
                if (q == p) break;
            }
            const double lost = plan.lost_s[sz(last)];
            const double eff = len - lost;
            if (eff <= 0.0) continue;
            const double l1 = std::min(m_.opt.start_lost_s, lost);
            f(wrap(start + l1, cycle_[i]), std::min(eff, cycle_[i]));
        }
    }

    void build_caps(index_t i) {
        const auto& plan = m_.plan;
        const double dt = dt_[sz(i)], C = cycle_[sz(i)];
        const auto n = steps_[sz(i)];
        for (index_t g = plan.group_first[sz(i)]; g < plan.group_first[sz(i) + 1]; ++g) {
            const auto base = static_cast<std::size_t>(prof_first_[sz(g)]);
            double* frac = gfrac_.data() + base;
            std::fill(frac, frac + n, 0.0);
            auto add = [&](double x, double y) {  // [x, y) within [0, C]
                if (y <= x) return;
                auto k0 = static_cast<std::int64_t>(std::floor(x / dt));
                k0 = std::clamp<std::int64_t>(k0, 0, n - 1);
                for (std::int64_t k = k0; k < n; ++k) {
                    const double lo = std::max(x, static_cast<double>(k) * dt);
                    const double hi = std::min(y, static_cast<double>(k + 1) * dt);
                    if (hi > lo) frac[k] += (hi - lo) / dt;
                    if (static_cast<double>(k + 1) * dt >= y) break;
                }
            };
            windows(sz(g), [&](double s, double len) {
                if (s + len <= C) {
                    add(s, s + len);
                } else {
                    add(s, C);
                    add(0.0, s + len - C);
                }
            });
            const double per = plan.sat_flow_vph[sz(g)] * dt / 3600.0;
            for (std::int64_t k = 0; k < n; ++k) {
                frac[k] = std::min(frac[k], 1.0);
                cap_[base + static_cast<std::size_t>(k)] = per * frac[k];
            }
        }
    }

    // Robertson's dispersion of the feeder's outflow, periodic steady state, feeder's frame.
    void compute_disp(index_t e) {
        if (!same_steps(sz(e))) return;
        save_entry(e);
        const index_t u = m_.feeds.feed_from[sz(e)];
        const std::size_t iu = sz(m_.int_of_group[sz(u)]);
        const auto n = steps_[iu];
        const double dt = dt_[iu];
        const double T = m_.feeds.feed_travel_s[sz(e)] / dt;  // travel time in steps
        const auto lag = static_cast<std::int64_t>(std::llround(m_.opt.beta * T));
        const double F = 1.0 / (1.0 + m_.opt.alpha * m_.opt.beta * T);
        const double* out = out_.data() + prof_first_[sz(u)];
        double* d = disp_.data() + disp_first_[sz(e)];
        auto src = [&](std::int64_t t) { return out[((t - lag) % n + n) % n]; };
        if (F >= 1.0 - 1e-15) {
            for (std::int64_t t = 0; t < n; ++t) d[t] = src(t);
            return;
        }
        double prev = 0.0;
        for (std::int64_t t = 0; t < n; ++t) d[t] = prev = F * src(t) + (1.0 - F) * prev;
        // Periodic solution: d*(t) = d(t) + (1 - F)^(t + 1) x with x = d*(n - 1).
        const double r = 1.0 - F;
        const double rn = std::pow(r, static_cast<double>(n));
        const double x = rn < 1.0 ? d[n - 1] / (1.0 - rn) : 0.0;
        double w = r;
        for (std::int64_t t = 0; t < n; ++t) {
            d[t] += w * x;
            w *= r;
        }
    }

    // Recompute lane group g's inflow, queue, outflow and statistics. Returns the largest change of
    // its outflow in any step.
    double compute_group(index_t g) {
        save_group(g);
        const auto& plan = m_.plan;
        const auto& feeds = m_.feeds;
        const std::size_t i = sz(m_.int_of_group[sz(g)]);
        const auto n = steps_[i];
        const double dt = dt_[i], C = cycle_[i];
        const auto base = static_cast<std::size_t>(prof_first_[sz(g)]);
        double* in = in_.data() + base;
        double* out = out_.data() + base;
        double* qs = queue_.data() + base;
        const double* cap = cap_.data() + base;
        const double* frac = gfrac_.data() + base;
        const double v = plan.flow_vph[sz(g)];
        const double fed = m_.fed_nominal[sz(g)];
        const double sigma = fed > v && fed > 0.0 ? v / fed : 1.0;
        const double uniform = std::max(0.0, v - fed) * dt / 3600.0;
        std::fill(in, in + n, uniform);
        for (index_t e = feeds.feed_first[sz(g)]; e < feeds.feed_first[sz(g) + 1]; ++e) {
            const index_t u = feeds.feed_from[sz(e)];
            const std::size_t iu = sz(m_.int_of_group[sz(u)]);
            const double w = sigma * feeds.feed_share[sz(e)];
            if (!same_steps(sz(e))) {
                double tot = 0.0;
                for (auto k = prof_first_[sz(u)]; k < prof_first_[sz(u) + 1]; ++k) tot += out_[static_cast<std::size_t>(k)];
                const double per = w * tot / cycle_[iu] * dt;  // veh/s of the feeder x this step
                for (std::int64_t k = 0; k < n; ++k) in[k] += per;
                continue;
            }
            const double* d = disp_.data() + disp_first_[sz(e)];
            const double shift = (offset_[iu] - offset_[i]) / dt;
            const double fl = std::floor(shift);
            const double wt = shift - fl;
            auto a = static_cast<std::int64_t>(fl) % n;
            if (a < 0) a += n;
            for (std::int64_t k = 0; k < n; ++k) {
                std::int64_t j0 = k - a;
                if (j0 < 0) j0 += n;
                const std::int64_t j1 = j0 == 0 ? n - 1 : j0 - 1;
                in[k] += w * ((1.0 - wt) * d[j0] + wt * d[j1]);
            }
        }
        double arrivals = 0.0, capsum = 0.0;
        for (std::int64_t k = 0; k < n; ++k) {
            arrivals += in[k];
            capsum += cap[k];
        }
        const double scale = arrivals > capsum && arrivals > 0.0 ? capsum / arrivals : 1.0;
        // Queue over two cycles with piecewise-constant rates in each step.
        scratch_.assign(out, out + n);  // the old outflow, for the change test below
        const std::vector<double>& old_out = scratch_;
        double q = 0.0, area = 0.0, stopped = 0.0, maxq = 0.0, on_green = 0.0;
        for (int pass = 0; pass < 2; ++pass) {
            const bool record = pass == 1;
            for (std::int64_t k = 0; k < n; ++k) {
                const double a = in[k] * scale, c = cap[k];
                double q1, ar, st;
                if (q > 0.0 && c > a && q < c - a) {
                    const double tau = q / (c - a) * dt;  // the queue clears inside the step
                    q1 = 0.0;
                    ar = 0.5 * q * tau;
                    st = a * tau / dt;
                } else if (q > 0.0) {
                    q1 = q + a - c;
                    ar = 0.5 * (q + q1) * dt;
                    st = a;
                } else {
                    q1 = std::max(0.0, a - c);
                    ar = 0.5 * q1 * dt;
                    st = q1;
                }
                if (record) {
                    qs[k] = q;
                    out[k] = q + a - q1;
                    area += ar;
                    stopped += st;
                    maxq = std::max(maxq, std::max(q, q1));
                    on_green += in[k] * frac[k];
                }
                q = q1;
            }
        }
        double change = 0.0;
        for (std::int64_t k = 0; k < n; ++k) change = std::max(change, std::abs(out[k] - old_out[static_cast<std::size_t>(k)]));

        GroupStats s;
        s.v_in = arrivals * 3600.0 / C;
        s.cap_vph = capsum * 3600.0 / C;
        s.x = s.cap_vph > 0.0 ? s.v_in / s.cap_vph : (s.v_in > 0.0 ? kInf : 0.0);
        s.du = area / C;
        s.dr = 0.0;
        if (s.v_in > 0.0) {
            const double c = std::max(s.cap_vph, 1e-9);
            s.dr = s.v_in * hcm_d2(s.v_in / c, c, plan.k[sz(g)], plan.upstream_i[sz(g)], m_.opt.analysis_period_h) / 3600.0;
        }
        s.stops = stopped * 3600.0 / C + std::max(0.0, s.v_in - s.cap_vph);
        s.maxq = maxq;
        s.aog = arrivals > 0.0 ? on_green / arrivals : 0.0;
        s.pi = s.du + s.dr + m_.opt.stop_penalty_s * s.stops / 3600.0;
        total_pi_ += s.pi - stats_[sz(g)].pi;
        stats_[sz(g)] = s;
        ++updates_;
        return change;
    }

    void push(index_t g) {
        if (in_queue_[sz(g)]) return;
        in_queue_[sz(g)] = 1;
        heap_.emplace(m_.rank[sz(g)], g);
    }

    void touch_offset(index_t i) {
        const auto& plan = m_.plan;
        for (index_t g = plan.group_first[sz(i)]; g < plan.group_first[sz(i) + 1]; ++g) {
            push(g);
            for (index_t k = m_.down_first[sz(g)]; k < m_.down_first[sz(g) + 1]; ++k)
                push(m_.feed_to[sz(m_.down_entry[sz(k)])]);
        }
    }

    void settle() {
        const std::int64_t cap = std::max<std::int64_t>(1, m_.opt.max_updates_per_group) *
                                 static_cast<std::int64_t>(std::max<std::size_t>(1, m_.n_group));
        std::int64_t done = 0;
        while (!heap_.empty()) {
            const index_t g = heap_.top().second;
            heap_.pop();
            in_queue_[sz(g)] = 0;
            if (done++ > cap) continue;  // give up propagating (drain the queue)
            const double change = compute_group(g);
            if (change > m_.opt.tolerance_veh) {
                for (index_t k = m_.down_first[sz(g)]; k < m_.down_first[sz(g) + 1]; ++k) {
                    const index_t e = m_.down_entry[sz(k)];
                    compute_disp(e);
                    push(m_.feed_to[sz(e)]);
                }
            }
        }
    }

    // --- journal -----------------------------------------------------------------------------------
    void begin() {
        clear_journal();
        journal_on_ = true;
        pi_before_ = total_pi_;
    }
    void clear_journal() {
        for (index_t g : jgroups_) saved_group_[sz(g)] = -1;
        for (index_t e : jentries_) saved_entry_[sz(e)] = -1;
        jgroups_.clear();
        jgroup_pos_.clear();
        jstats_.clear();
        jentries_.clear();
        jentry_pos_.clear();
        jbuf_.clear();
    }
    void save_group(index_t g) {
        if (!journal_on_ || saved_group_[sz(g)] >= 0) return;
        saved_group_[sz(g)] = static_cast<std::int64_t>(jgroups_.size());
        jgroups_.push_back(g);
        jgroup_pos_.push_back(jbuf_.size());
        jstats_.push_back(stats_[sz(g)]);
        const auto a = static_cast<std::ptrdiff_t>(prof_first_[sz(g)]);
        const auto b = static_cast<std::ptrdiff_t>(prof_first_[sz(g) + 1]);
        jbuf_.insert(jbuf_.end(), in_.begin() + a, in_.begin() + b);
        jbuf_.insert(jbuf_.end(), out_.begin() + a, out_.begin() + b);
        jbuf_.insert(jbuf_.end(), queue_.begin() + a, queue_.begin() + b);
        jbuf_.insert(jbuf_.end(), cap_.begin() + a, cap_.begin() + b);
        jbuf_.insert(jbuf_.end(), gfrac_.begin() + a, gfrac_.begin() + b);
    }
    void save_entry(index_t e) {
        if (!journal_on_ || saved_entry_[sz(e)] >= 0) return;
        saved_entry_[sz(e)] = static_cast<std::int64_t>(jentries_.size());
        jentries_.push_back(e);
        jentry_pos_.push_back(jbuf_.size());
        const auto a = static_cast<std::ptrdiff_t>(disp_first_[sz(e)]);
        const auto b = static_cast<std::ptrdiff_t>(disp_first_[sz(e) + 1]);
        jbuf_.insert(jbuf_.end(), disp_.begin() + a, disp_.begin() + b);
    }

    const Model& m_;
    std::vector<double> green_, offset_, cycle_, dt_;
    std::vector<std::int64_t> steps_, prof_first_, disp_first_;
    std::vector<double> cap_, gfrac_, in_, out_, queue_, disp_;
    std::vector<GroupStats> stats_;
    double total_pi_ = 0.0;
    std::int64_t updates_ = 0;
    using Item = std::pair<index_t, index_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_;
    std::vector<char> in_queue_;
    std::vector<double> scratch_;
    // journal
    bool journal_on_ = false;
    double pi_before_ = 0.0;
    std::vector<std::int64_t> saved_group_, saved_entry_;
    std::vector<index_t> jgroups_, jentries_;
    std::vector<std::size_t> jgroup_pos_, jentry_pos_;
    std::vector<GroupStats> jstats_;
    std::vector<double> jbuf_;
    index_t moved_int_ = -1, moved_p_ = -1, moved_q_ = -1;
    double saved_offset_ = 0.0, saved_gp_ = 0.0, saved_gq_ = 0.0;
};

struct ClimbResult {
    std::vector<double> green, offset;
    double pi = kInf;
    std::int64_t moves = 0, accepted = 0, updates = 0;
};

// TRANSYT hill climb from (green, offset). `stop` is polled between moves.
ClimbResult climb(const Model& m, std::vector<double> green, std::vector<double> offset, const OptimiseOptions& opt,
                  const std::atomic<bool>& stop) {
    State st(m, std::move(green), std::move(offset));
    st.full();
    ClimbResult r;
    const double eps = 1e-10;
    auto improves = [&](double d) { return std::isfinite(d) && d < -eps * std::max(1.0, std::abs(st.pi())); };
    const auto& plan = m.plan;
    const std::size_t nf = opt.offset_step_fractions.size(), ns = opt.split_steps_s.size();
    const std::size_t levels = std::max(nf, ns) + 1;  // the last level moves by one step
    auto improve_by = [&](auto&& attempt) {
        // Repeat a move while it lowers the PI; try the other direction if the first never helped.
        bool any = false;
        for (double dir : {1.0, -1.0}) {
            bool moved = false;
            for (int rep = 0; rep < 10000; ++rep) {
                ++r.moves;
                const double d = attempt(dir);
                if (std::isnan(d)) break;
                if (improves(d)) {
                    st.accept();
                    ++r.accepted;
                    moved = any = true;
                } else {
                    st.reject();
                    break;
                }
            }
            if (moved) break;
        }
        return any;
    };
    for (std::size_t level = 0; level < levels; ++level) {
        for (int sweep = 0; sweep < opt.max_sweeps; ++sweep) {
            bool improved = false;
            for (std::size_t i = 0; i < m.n_int; ++i) {
                if (stop.load(std::memory_order_relaxed)) goto done;
                const auto ii = static_cast<index_t>(i);
                const double dt = st.dt(i);
                if (opt.offsets) {
                    const std::int64_t k = level < nf ? std::max<std::int64_t>(1, std::llround(
                                                             opt.offset_step_fractions[level] *
                                                             static_cast<double>(st.steps(i))))
                                                       : 1;
                    const double delta = static_cast<double>(k) * dt;
                    if (improve_by([&](double dir) { return st.try_offset(ii, dir * delta); })) improved = true;
                }
                const index_t p0 = plan.phase_first[i], p1 = plan.phase_first[i + 1];
                if (opt.splits && p1 - p0 >= 2) {
                    const double secs = level < ns ? opt.split_steps_s[level] : dt;
                    const double delta = std::max(1.0, std::round(secs / dt)) * dt;
                    for (index_t p = p0; p < p1; ++p) {  // every phase boundary p | q
                        const index_t q = p + 1 < p1 ? p + 1 : p0;
                        if (improve_by([&](double dir) { return st.try_split(ii, p, q, dir * delta); }))
                            improved = true;
                    }
                }
            }
            if (!improved) break;
        }
    }
done:
    r.updates = st.updates();
    r.green = st.green();
    r.offset = st.offset();
    State check(m, r.green, r.offset);  // exact PI of the result (the climb's total drifts by rounding)
    r.pi = check.full();
    return r;
}

}  // namespace

std::vector<std::int64_t> transyt_steps(const PlanView& plan, Span<const double> green_s, double step_s) {
    std::vector<std::int64_t> out(plan.num_intersections());
    for (std::size_t i = 0; i < out.size(); ++i) {
        double C = 0.0;
        for (index_t p = plan.phase_first[i]; p < plan.phase_first[i + 1]; ++p)
            C += green_s[sz(p)] + plan.yellow_s[sz(p)] + plan.all_red_s[sz(p)];
        out[i] = std::max<std::int64_t>(1, std::llround(C / step_s));
    }
    return out;
}

void validate_feeds(const PlanView& plan, const FeedView& feeds, const TransytOptions& o) {
    const std::size_t ng = plan.num_groups();
    if (feeds.feed_first.size() != ng + 1) fail("feed_first", 0, "expected one entry per lane group plus one");
    if (feeds.feed_first[0] != 0) fail("feed_first", 0, "must start at 0");
    for (std::size_t g = 0; g < ng; ++g)
        if (feeds.feed_first[g + 1] < feeds.feed_first[g]) fail("feed_first", g + 1, "must be non-decreasing");
    const auto nf = static_cast<std::size_t>(feeds.feed_first[ng]);
    if (feeds.feed_from.size() != nf || feeds.feed_share.size() != nf || feeds.feed_travel_s.size() != nf)
        fail("feed_from", 0, "feed_from, feed_share and feed_travel_s need feed_first[-1] entries");
    for (std::size_t e = 0; e < nf; ++e) {
        if (feeds.feed_from[e] < 0 || sz(feeds.feed_from[e]) >= ng) fail("feed_from", e, "not a lane group index");
        if (!(feeds.feed_share[e] > 0.0 && feeds.feed_share[e] <= 1.0 + 1e-12))
            fail("feed_share", e, "must lie in (0, 1]");
        if (!(feeds.feed_travel_s[e] >= 0.0 && std::isfinite(feeds.feed_travel_s[e])))
            fail("feed_travel_s", e, "must be a finite number >= 0");
    }
    auto pos = [](double v) { return v > 0.0 && std::isfinite(v); };
    if (!pos(o.step_s)) fail("step_s", 0, "must be a finite number > 0");
    if (!(o.alpha >= 0.0 && std::isfinite(o.alpha))) fail("alpha", 0, "must be a finite number >= 0");
    if (!pos(o.beta)) fail("beta", 0, "must be a finite number > 0");
    if (!(o.stop_penalty_s >= 0.0 && std::isfinite(o.stop_penalty_s)))
        fail("stop_penalty_s", 0, "must be a finite number >= 0");
    if (!(o.start_lost_s >= 0.0 && std::isfinite(o.start_lost_s))) fail("start_lost_s", 0, "must be >= 0");
    if (!pos(o.analysis_period_h)) fail("analysis_period_h", 0, "must be a finite number > 0");
    if (!(o.tolerance_veh >= 0.0)) fail("tolerance_veh", 0, "must be >= 0");
}

double transyt_evaluate(const PlanView& plan, const FeedView& feeds, Span<const double> green_s,
                        Span<const double> offset_s, const TransytOptions& options, const TransytEvaluation& out) {
    validate_plan(plan);
    validate_feeds(plan, feeds, options);
    const std::size_t ng = plan.num_groups(), ni = plan.num_intersections();
    if (green_s.size() != plan.num_phases()) fail("green_s", 0, "expected one entry per phase");
    if (offset_s.size() != ni) fail("offset_s", 0, "expected one entry per intersection");
    for (std::size_t p = 0; p < green_s.size(); ++p)
        if (!(green_s[p] >= 0.0 && std::isfinite(green_s[p]))) fail("green_s", p, "must be a finite number >= 0");
    for (std::size_t i = 0; i < ni; ++i)
        if (!std::isfinite(offset_s[i])) fail("offset_s", i, "must be finite");
    for (auto* s : {&out.flow_in_vph, &out.capacity_vph, &out.x, &out.uniform_delay_veh_h, &out.random_delay_veh_h,
                    &out.delay_s, &out.stops_vph, &out.stop_rate, &out.max_queue_veh, &out.arrivals_on_green, &out.pi})
        if (s->size() != ng) fail("evaluation", 0, "every lane group output needs one entry per lane group");
    Model m(plan, feeds, options);
    State st(m, std::vector<double>(green_s.begin(), green_s.end()),
             std::vector<double>(offset_s.begin(), offset_s.end()));
    for (std::size_t i = 0; i < ni; ++i)
        if (!st.greens_ok(static_cast<index_t>(i)))
            fail("green_s", sz(plan.phase_first[i]), "a lane group of intersection " + std::to_string(i) +
                                                          " gets no effective green");
    const double pi = st.full();
    for (std::size_t g = 0; g < ng; ++g) {
        const GroupStats& s = st.stats(g);
        out.flow_in_vph[g] = s.v_in;
        out.capacity_vph[g] = s.cap_vph;
        out.x[g] = s.x;
        out.uniform_delay_veh_h[g] = s.du;
        out.random_delay_veh_h[g] = s.dr;
        out.delay_s[g] = s.v_in > 0.0 ? (s.du + s.dr) * 3600.0 / s.v_in : 0.0;
        out.stops_vph[g] = s.stops;
        out.stop_rate[g] = s.v_in > 0.0 ? s.stops / s.v_in : 0.0;
        out.max_queue_veh[g] = s.maxq;
        out.arrivals_on_green[g] = s.aog;
        out.pi[g] = s.pi;
    }
    if (!out.profile_first.empty()) {
        const auto& pf = st.prof_first();
        if (out.profile_first.size() != pf.size()) fail("profile_first", 0, "expected one entry per lane group plus one");
        for (std::size_t g = 0; g <= ng; ++g)
            if (out.profile_first[g] != pf[g]) fail("profile_first", g, "does not match the steps of the cycle");
        const auto total = static_cast<std::size_t>(pf.back());
        if (out.in_profile.size() != total || out.out_profile.size() != total || out.queue_profile.size() != total)
            fail("in_profile", 0, "profiles need profile_first[-1] entries");
        std::copy(st.in().begin(), st.in().end(), out.in_profile.begin());
        std::copy(st.out().begin(), st.out().end(), out.out_profile.begin());
        std::copy(st.queue().begin(), st.queue().end(), out.queue_profile.begin());
    }
    return pi;
}

OptimiseResult transyt_optimise(const PlanView& plan, const FeedView& feeds, Span<const double> green_s,
                                Span<const double> offset_s, const TransytOptions& options,
                                const OptimiseOptions& opt, const OptimiseProgress& progress) {
    validate_plan(plan);
    validate_feeds(plan, feeds, options);
    const std::size_t ni = plan.num_intersections(), np = plan.num_phases();
    if (green_s.size() != np) fail("green_s", 0, "expected one entry per phase");
    if (offset_s.size() != ni) fail("offset_s", 0, "expected one entry per intersection");
    if (opt.restarts < 1) fail("restarts", 0, "must be >= 1");
    for (double c : opt.cycles_s)
        if (!(c > 0.0 && std::isfinite(c))) fail("cycles_s", 0, "candidate cycles must be finite numbers > 0");
    for (double f : opt.offset_step_fractions)
        if (!(f > 0.0 && f <= 1.0)) fail("offset_step_fractions", 0, "must lie in (0, 1]");
    for (double s : opt.split_steps_s)
        if (!(s > 0.0 && std::isfinite(s))) fail("split_steps_s", 0, "must be finite numbers > 0");
    Model m(plan, feeds, options);
    std::vector<double> g0(green_s.begin(), green_s.end()), o0(offset_s.begin(), offset_s.end());
    OptimiseResult res;
    {
        State start(m, g0, o0);
        for (std::size_t i = 0; i < ni; ++i)
            if (!start.greens_ok(static_cast<index_t>(i)))
                fail("green_s", sz(plan.phase_first[i]), "a lane group of intersection " + std::to_string(i) +
                                                              " gets no effective green");
        res.pi_start = start.full();
    }
    // Starting points: the plan itself, then each candidate common cycle (equisaturation greens,
    // offsets scaled to the new cycle).
    struct Start {
        std::vector<double> green, offset;
        double cycle;  // NaN: the plan's cycles
    };
    std::vector<Start> starts{{g0, o0, std::nan("")}};
    res.cycles_s = opt.cycles_s;
    res.cycle_pi.assign(opt.cycles_s.size(), std::nan(""));
    std::vector<int> start_of_cycle(opt.cycles_s.size(), -1);
    if (!opt.cycles_s.empty()) {
        std::vector<double> y(np), cyc(ni), green(np), xc(ni);
        std::vector<std::uint32_t> status(ni);
        critical_flow_ratios(plan, y);
        for (std::size_t c = 0; c < opt.cycles_s.size(); ++c) {
            std::vector<double> fixed(ni, opt.cycles_s[c]);
            bool ok = true;
            try {
                compute_timings(plan, y, TimingOptions{}, fixed, cyc, green, status, xc);
            } catch (const InputError&) {
                ok = false;  // shorter than some intersection's lost time
            }
            for (std::size_t i = 0; ok && i < ni; ++i) ok = (status[i] & kMinGreenViolated) == 0;
            if (!ok) continue;
            std::vector<double> off(ni);
            for (std::size_t i = 0; i < ni; ++i) {
                double C0 = 0.0;
                for (index_t p = plan.phase_first[i]; p < plan.phase_first[i + 1]; ++p)
                    C0 += g0[sz(p)] + plan.yellow_s[sz(p)] + plan.all_red_s[sz(p)];
                off[i] = o0[i] / C0 * opt.cycles_s[c];
            }
            State probe(m, green, off);
            bool usable = true;
            for (std::size_t i = 0; usable && i < ni; ++i) usable = probe.greens_ok(static_cast<index_t>(i));
            if (!usable) continue;
            start_of_cycle[c] = static_cast<int>(starts.size());
            starts.push_back({green, off, opt.cycles_s[c]});
        }
    }
    const int n_restart_tasks = opt.restarts - 1;
    const std::int64_t total = static_cast<std::int64_t>(starts.size()) + n_restart_tasks;

    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    double best_pi = res.pi_start;
    std::exception_ptr error;

    // Runs tasks [0, count) on `threads` workers; the calling thread reports progress.
    auto run = [&](std::size_t count, auto&& task) {
        if (count == 0) return;
        int threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads), count));
        std::atomic<std::size_t> next{0};
        std::atomic<int> running{0};
        auto worker = [&]() {
            for (;;) {
                if (stop.load()) break;
                const std::size_t t = next.fetch_add(1);
                if (t >= count) break;
                try {
                    const double pi = task(t);
                    std::lock_guard<std::mutex> lock(mu);
                    best_pi = std::min(best_pi, pi);
                } catch (...) {
                    std::lock_guard<std::mutex> lock(mu);
                    if (!error) error = std::current_exception();
                    stop.store(true);
                }
                done.fetch_add(1);
                cv.notify_all();
            }
            if (running.fetch_sub(1) == 1) cv.notify_all();
        };
        std::vector<std::thread> pool;
        pool.reserve(static_cast<std::size_t>(threads));
        try {
            for (int w = 0; w < threads; ++w) {
                running.fetch_add(1);
                try {
                    pool.emplace_back(worker);
                } catch (...) {
                    running.fetch_sub(1);
                    throw;
                }
            }
        } catch (const std::system_error&) {
            if (pool.empty()) {  // no thread at all: work on the calling thread
                running.fetch_add(1);
                worker();
            }
        }
        std::unique_lock<std::mutex> lock(mu);
        while (running.load() > 0) {
            cv.wait_for(lock, std::chrono::milliseconds(50));
            if (progress && !stop.load()) {
                const double b = best_pi;
                lock.unlock();
                bool go = true;
                try {
                    go = progress(done.load(), total, b);
                } catch (...) {
                    std::lock_guard<std::mutex> g(mu);
                    if (!error) error = std::current_exception();
                    go = false;
                }
                lock.lock();
                if (!go) {
                    stop.store(true);
                    res.cancelled = true;
                }
            }
        }
        lock.unlock();
        for (auto& t : pool) t.join();
        if (error) std::rethrow_exception(error);
    };

    std::vector<ClimbResult> first(starts.size());
    run(starts.size(), [&](std::size_t t) {
        first[t] = climb(m, starts[t].green, starts[t].offset, opt, stop);
        return first[t].pi;
    });
    std::size_t best_start = 0;
    for (std::size_t t = 1; t < starts.size(); ++t)
        if (first[t].pi < first[best_start].pi) best_start = t;
    for (std::size_t c = 0; c < opt.cycles_s.size(); ++c)
        if (start_of_cycle[c] >= 0) res.cycle_pi[c] = first[sz(start_of_cycle[c])].pi;

    std::vector<ClimbResult> more(static_cast<std::size_t>(std::max(0, n_restart_tasks)));
    if (!stop.load()) {
        const Start& s = starts[best_start];
        run(more.size(), [&](std::size_t t) {
            SplitMix rng{opt.seed * 0x100000001B3ull + static_cast<std::uint64_t>(t + 1) * 0x9E3779B97F4A7C15ull};
            std::vector<double> off(ni);
            State probe(m, s.green, s.offset);
            for (std::size_t i = 0; i < ni; ++i)
                off[i] = std::floor(rng.uniform() * static_cast<double>(probe.steps(i))) * probe.dt(i);
            more[t] = climb(m, s.green, off, opt, stop);
            return more[t].pi;
        });
    }
    const ClimbResult* best = &first[best_start];
    res.restart_pi.push_back(first[best_start].pi);
    for (const auto& r : more) {
        if (r.green.empty()) continue;  // not run (cancelled)
        res.restart_pi.push_back(r.pi);
        if (r.pi < best->pi) best = &r;
    }
    for (const auto& r : first) {
        res.moves += r.moves;
        res.accepted += r.accepted;
        res.group_updates += r.updates;
    }
    for (const auto& r : more) {
        res.moves += r.moves;
        res.accepted += r.accepted;
        res.group_updates += r.updates;
    }
    if (best->green.empty() || !(best->pi <= res.pi_start)) {
        res.green_s = g0;
        res.offset_s.resize(ni);
        for (std::size_t i = 0; i < ni; ++i) {
            double C = 0.0;
            for (index_t p = plan.phase_first[i]; p < plan.phase_first[i + 1]; ++p)
                C += g0[sz(p)] + plan.yellow_s[sz(p)] + plan.all_red_s[sz(p)];
            double r = std::fmod(o0[i], C);
            if (r < 0.0) r += C;
            res.offset_s[i] = r >= C ? 0.0 : r;
        }
        res.pi = res.pi_start;
    } else {
        res.green_s = best->green;
        res.offset_s = best->offset;
        res.pi = best->pi;
    }
    if (progress && !res.cancelled) progress(total, total, res.pi);
    return res;
}

}  // namespace smartcore::signals
