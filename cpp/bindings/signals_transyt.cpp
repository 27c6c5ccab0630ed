// Bindings for the TRANSYT-style model and optimiser (smartcore/signals_transyt.hpp).
// Internal API: smartcore.signals.transyt wraps it.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pybind.hpp"
#include "signals_plan.hpp"
#include "smartcore/signals_transyt.hpp"

namespace smartcore::bind {

namespace {

using namespace smartcore::signals;

struct FeedArrays {
    carray<index_t> first, from;
    carray<double> share, travel;
    explicit FeedArrays(const py::dict& d)
        : first(PlanArrays::get<index_t>(d, "feed_first")),
          from(PlanArrays::get<index_t>(d, "feed_from")),
          share(PlanArrays::get<double>(d, "feed_share")),
          travel(PlanArrays::get<double>(d, "feed_travel_s")) {}
    FeedView view() const {
        return {bind::view(first, "feed_first"), bind::view(from, "feed_from"), bind::view(share, "feed_share"),
                bind::view(travel, "feed_travel_s")};
    }
};

double number(const py::dict& d, const char* key, double fallback) {
    return d.contains(key) ? d[key].cast<double>() : fallback;
}

TransytOptions transyt_options(const py::dict& d) {
    TransytOptions o;
    o.step_s = number(d, "step_s", o.step_s);
    o.alpha = number(d, "alpha", o.alpha);
    o.beta = number(d, "beta", o.beta);
    o.stop_penalty_s = number(d, "stop_penalty_s", o.stop_penalty_s);
    o.start_lost_s = number(d, "start_lost_s", o.start_lost_s);
    o.analysis_period_h = number(d, "analysis_period_h", o.analysis_period_h);
    o.tolerance_veh = number(d, "tolerance_veh", o.tolerance_veh);
    if (d.contains("max_updates_per_group")) o.max_updates_per_group = d["max_updates_per_group"].cast<std::int64_t>();
    return o;
}

py::dict evaluate_py(const py::dict& plan_arrays, const py::dict& feed_arrays, const carray<double>& green_s,
                     const carray<double>& offset_s, const py::dict& options, bool profiles) {
    PlanArrays arrays(plan_arrays);
    FeedArrays feeds(feed_arrays);
    const PlanView plan = arrays.view();
    const FeedView fv = feeds.view();
    const TransytOptions opt = transyt_options(options);
    const auto ng = static_cast<py::ssize_t>(plan.flow_vph.size());
    auto green = view(green_s, "green_s", static_cast<py::ssize_t>(plan.yellow_s.size()));
    auto offset = view(offset_s, "offset_s",
                       static_cast<py::ssize_t>(plan.phase_first.empty() ? 0 : plan.phase_first.size() - 1));
    const char* names[] = {"flow_in_vph", "capacity_vph", "x", "uniform_delay_veh_h", "random_delay_veh_h",
                           "delay_s", "stops_vph", "stop_rate", "max_queue_veh", "arrivals_on_green", "pi"};
    std::vector<carray<double>> outs;
    for (std::size_t k = 0; k < 11; ++k) outs.emplace_back(ng);
    TransytEvaluation out;
    Span<double>* slots[] = {&out.flow_in_vph, &out.capacity_vph, &out.x, &out.uniform_delay_veh_h,
                             &out.random_delay_veh_h, &out.delay_s, &out.stops_vph, &out.stop_rate,
                             &out.max_queue_veh, &out.arrivals_on_green, &out.pi};
    for (std::size_t k = 0; k < 11; ++k) *slots[k] = view_mut(outs[k], names[k]);
    carray<std::int64_t> pf(0);
    carray<double> pin(0), pout(0), pq(0);
    double pi = 0.0;
    {
        py::gil_scoped_release release;  // the kernel reads the arrays held by `arrays`/`feeds`
        validate_plan(plan);
        validate_feeds(plan, fv, opt);
        if (profiles) {
            // Profile layout needs the steps of each intersection; sized here, filled below.
            const auto steps = transyt_steps(plan, green, opt.step_s);
            std::vector<std::int64_t> first(plan.num_groups() + 1, 0);
            for (std::size_t i = 0; i < plan.num_intersections(); ++i)
                for (index_t g = plan.group_first[i]; g < plan.group_first[i + 1]; ++g)
                    first[static_cast<std::size_t>(g) + 1] = steps[i];
            for (std::size_t g = 0; g < plan.num_groups(); ++g) first[g + 1] += first[g];
            py::gil_scoped_acquire gil;
            pf = carray<std::int64_t>(static_cast<py::ssize_t>(first.size()));
            std::copy(first.begin(), first.end(), pf.mutable_data());
            const auto total = static_cast<py::ssize_t>(first.back());
            pin = carray<double>(total);
            pout = carray<double>(total);
            pq = carray<double>(total);
        }
        if (profiles) {
            out.profile_first = {pf.data(), static_cast<std::size_t>(pf.shape(0))};
            out.in_profile = {pin.mutable_data(), static_cast<std::size_t>(pin.shape(0))};
            out.out_profile = {pout.mutable_data(), static_cast<std::size_t>(pout.shape(0))};
            out.queue_profile = {pq.mutable_data(), static_cast<std::size_t>(pq.shape(0))};
        }
        pi = transyt_evaluate(plan, fv, green, offset, opt, out);
    }
    py::dict result;
    for (std::size_t k = 0; k < 11; ++k) result[names[k]] = outs[k];
    result["total_pi"] = pi;
    if (profiles) {
        result["profile_first"] = pf;
        result["in_profile"] = pin;
        result["out_profile"] = pout;
        result["queue_profile"] = pq;
    }
    return result;
}

py::dict optimise_py(const py::dict& plan_arrays, const py::dict& feed_arrays, const carray<double>& green_s,
                     const carray<double>& offset_s, const py::dict& options, const py::dict& search,
                     const py::object& progress) {
    PlanArrays arrays(plan_arrays);
    FeedArrays feeds(feed_arrays);
    const PlanView plan = arrays.view();
    const FeedView fv = feeds.view();
    const TransytOptions opt = transyt_options(options);
    auto green = view(green_s, "green_s", static_cast<py::ssize_t>(plan.yellow_s.size()));
    auto offset = view(offset_s, "offset_s",
                       static_cast<py::ssize_t>(plan.phase_first.empty() ? 0 : plan.phase_first.size() - 1));
    OptimiseOptions so;
    if (search.contains("cycles_s")) so.cycles_s = search["cycles_s"].cast<std::vector<double>>();
    if (search.contains("offsets")) so.offsets = search["offsets"].cast<bool>();
    if (search.contains("splits")) so.splits = search["splits"].cast<bool>();
    if (search.contains("restarts")) so.restarts = search["restarts"].cast<int>();
    if (search.contains("seed")) so.seed = search["seed"].cast<std::uint64_t>();
    if (search.contains("threads")) so.threads = search["threads"].cast<int>();
    if (search.contains("offset_step_fractions"))
        so.offset_step_fractions = search["offset_step_fractions"].cast<std::vector<double>>();
    if (search.contains("split_steps_s")) so.split_steps_s = search["split_steps_s"].cast<std::vector<double>>();
    if (search.contains("max_sweeps")) so.max_sweeps = search["max_sweeps"].cast<int>();
    // Progress: the Python callable (if any) and Ctrl-C, at most every 50 ms. Runs on the calling
    // thread with the GIL released, so it takes the GIL. Ctrl-C cancels (best plan so far returned,
    // "interrupted" set); an exception raised by the callable cancels and is re-raised afterwards.
    bool interrupted = false;
    py::object callback_error = py::none();
    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    OptimiseProgress fn = [&](std::int64_t done, std::int64_t total, double best) {
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - last < std::chrono::milliseconds(50)) return true;
        last = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
            PyErr_Clear();
            interrupted = true;
            return false;
        }
        if (progress.is_none()) return true;
        try {
            py::object r = progress(done, total, best);
            return r.is_none() || r.cast<bool>();
        } catch (py::error_already_set& e) {
            callback_error = e.value();
            return false;
        }
    };
    OptimiseResult r;
    {
        py::gil_scoped_release release;
        r = transyt_optimise(plan, fv, green, offset, opt, so, fn);
    }
    if (!callback_error.is_none()) {
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(callback_error.ptr())), callback_error.ptr());
        throw py::error_already_set();
    }
    auto arr = [](const std::vector<double>& v) {
        carray<double> a(static_cast<py::ssize_t>(v.size()));
        std::copy(v.begin(), v.end(), a.mutable_data());
        return a;
    };
    py::dict out;
    out["green_s"] = arr(r.green_s);
    out["offset_s"] = arr(r.offset_s);
    out["pi"] = r.pi;
    out["pi_start"] = r.pi_start;
    out["cycles_s"] = arr(r.cycles_s);
    out["cycle_pi"] = arr(r.cycle_pi);
    out["restart_pi"] = arr(r.restart_pi);
    out["moves"] = r.moves;
    out["accepted"] = r.accepted;
    out["group_updates"] = r.group_updates;
    out["cancelled"] = r.cancelled;
    out["interrupted"] = interrupted;
    return out;
}

}  // namespace

void register_signals_transyt(py::module_& m) {
    m.def("signals_transyt_evaluate", &evaluate_py, py::arg("plan"), py::arg("feeds"), py::arg("green_s"),
          py::arg("offset_s"), py::arg("options"), py::arg("profiles") = false,
          "TRANSYT-style evaluation of a plan -> dict of per-lane-group arrays, total_pi (and profiles).");
    m.def("signals_transyt_optimise", &optimise_py, py::arg("plan"), py::arg("feeds"), py::arg("green_s"),
          py::arg("offset_s"), py::arg("options"), py::arg("search"), py::arg("progress") = py::none(),
          "TRANSYT-style hill climb of cycle, splits and offsets -> dict (green_s, offset_s, pi, ...).");
}

}  // namespace smartcore::bind
