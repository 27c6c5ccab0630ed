// Bindings for static traffic assignment (smartcore/assignment.hpp). Internal API: the public
// entry point is smartcore.assignment.assign, which validates and converts arguments first.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "pybind.hpp"
#include "smartcore/assignment.hpp"
#include "smartcore/assignment_detail.hpp"  // BushSolution is a complete type for py::class_

namespace smartcore::bind {

namespace {

LinkPerformanceView vdf_view(int kind, const carray<double>& t0, const carray<double>& cap,
                             const carray<double>& alpha, const carray<double>& beta) {
    if (kind != static_cast<int>(VdfKind::kBpr) && kind != static_cast<int>(VdfKind::kConical))
        raise_input("vdf", "unknown volume-delay function code " + std::to_string(kind));
    auto t = view(t0, "free_flow_time");
    const py::ssize_t m = t0.shape(0);
    return {static_cast<VdfKind>(kind), t, view(cap, "capacity", m), view(alpha, "alpha", m),
            view(beta, "beta", m)};
}

// (time, derivative, integral) of every link at the given flows.
py::tuple link_performance_py(int kind, const carray<double>& t0, const carray<double>& cap,
                              const carray<double>& alpha, const carray<double>& beta,
                              const carray<double>& flow) {
    const LinkPerformanceView v = vdf_view(kind, t0, cap, alpha, beta);
    auto f = view(flow, "flow", t0.shape(0));
    const py::ssize_t m = t0.shape(0);
    carray<double> time(m), der(m), integ(m);
    auto tm = view_mut(time, "time"), dm = view_mut(der, "derivative"), im = view_mut(integ, "integral");
    {
        // Reads the caller's arrays (alive for the call) and writes fresh ones.
        py::gil_scoped_release release;
        const LinkPerformance perf(v);
        link_times(perf, f, tm, dm);
        for (py::ssize_t a = 0; a < m; ++a)
            im[static_cast<std::size_t>(a)] = perf.integral(static_cast<index_t>(a), f[static_cast<std::size_t>(a)]);
    }
    return py::make_tuple(time, der, integ);
}

// Holds one class's arrays alive while the kernel runs.
struct ClassArgs {
    carray<double> demand;
    double pce;
    std::optional<carray<double>> fixed_cost;
};

py::dict assign_py(const carray<index_t>& fs_first, const carray<index_t>& fs_link,
                   const carray<index_t>& fs_head, const carray<index_t>& tail,
                   const carray<index_t>& head, index_t first_thru_node, const carray<index_t>& zone_node,
                   int vdf_kind, const carray<double>& free_flow_time, const carray<double>& capacity,
                   const carray<double>& alpha, const carray<double>& beta, const py::list& classes,
                   int algorithm, double gap, int max_iterations, double time_limit, int threads,
                   const py::object& progress, int bush_inner_sweeps,
                   double bush_sweep_reduction, int bush_extrapolation_sweeps, bool keep_bushes,
                   const std::shared_ptr<BushSolution>& warm_bushes, const py::object& warm_flows,
                   const py::object& warm_demand) {
    // Checks with the GIL held: shapes and dtypes (the kernel validates values and ranges).
    AssignmentNetwork net;
    auto first = view(fs_first, "fs_first");
    if (first.size() < 1) raise_input("fs_first", "must have num_nodes + 1 entries");
    const py::ssize_t m = fs_link.shape(0);
    net.forward = StarView{first, view(fs_link, "fs_link"), view(fs_head, "fs_head", m)};
    net.tail = view(tail, "tail", m);
    net.head = view(head, "head", m);
    net.first_thru_node = first_thru_node;
    net.zone_node = view(zone_node, "zone_node");
    const py::ssize_t z = zone_node.shape(0);
    const LinkPerformanceView vdf = vdf_view(vdf_kind, free_flow_time, capacity, alpha, beta);
    if (free_flow_time.shape(0) != m) raise_input("free_flow_time", "expected one value per link");

    std::vector<ClassArgs> keep;
    keep.reserve(classes.size());
    for (py::handle item : classes) {
        auto tup = item.cast<py::tuple>();
        if (tup.size() != 3) raise_input("classes", "each class is (demand, pce, fixed_cost or None)");
        ClassArgs c{tup[0].cast<carray<double>>(), tup[1].cast<double>(), std::nullopt};
        if (!tup[2].is_none()) c.fixed_cost = tup[2].cast<carray<double>>();
        keep.push_back(std::move(c));
    }
    std::vector<TrafficClass> cls;
    for (const ClassArgs& c : keep) {
        if (c.demand.ndim() != 2 || c.demand.shape(0) != z || c.demand.shape(1) != z)
            raise_input("demand", "expected a " + std::to_string(z) + " x " + std::to_string(z) + " matrix");
        TrafficClass t;
        t.demand = Span<const double>(c.demand.data(), static_cast<std::size_t>(z * z));
        t.pce = c.pce;
        if (c.fixed_cost) t.fixed_cost = view(*c.fixed_cost, "fixed_cost", m);
        cls.push_back(t);
    }

    AssignmentOptions opt;
    opt.algorithm = static_cast<Algorithm>(algorithm);
    opt.target_gap = gap;
    opt.max_iterations = max_iterations;
    opt.time_limit = time_limit;
    opt.threads = threads;
    opt.bush_inner_sweeps = bush_inner_sweeps;
    opt.bush_sweep_reduction = bush_sweep_reduction;
    opt.keep_bushes = keep_bushes;
    opt.bush_extrapolation_sweeps = bush_extrapolation_sweeps;
    WarmStart warm;
    std::vector<carray<double>> warm_keep;  // holds the warm-start arrays alive
    if (warm_bushes || !warm_flows.is_none()) {
        warm.bushes = warm_bushes;
        if (!warm_flows.is_none()) {
            if (warm_demand.is_none()) raise_input("warm_start", "warm flows need the demand they carry");
            for (py::handle h : warm_flows.cast<py::list>()) {
                warm_keep.push_back(h.cast<carray<double>>());
                warm.class_flow.push_back(view(warm_keep.back(), "warm_start", m));
            }
            for (py::handle h : warm_demand.cast<py::list>()) {
                warm_keep.push_back(h.cast<carray<double>>());
                const carray<double>& d = warm_keep.back();
                if (d.ndim() != 2 || d.shape(0) != z || d.shape(1) != z)
                    raise_input("warm_start", "warm-start demand must be a zones x zones matrix");
                warm.demand.push_back(Span<const double>(d.data(), static_cast<std::size_t>(z * z)));
            }
        }
        opt.warm_start = &warm;
    }
    // Ctrl-C: the kernel polls keep_going between origins with the GIL released; take the GIL at
    // most every 50 ms to check for signals. A pending KeyboardInterrupt is re-raised as is.
    auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    opt.keep_going = [last]() {
        const auto now = std::chrono::steady_clock::now();
        if (now - *last < std::chrono::milliseconds(50)) return true;
        *last = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        return true;
    };
    if (!progress.is_none()) {
        // Called once per iteration on this thread. An exception raised by the callback
        // propagates out of the kernel (which owns no resources needing cleanup) to the caller.
        opt.on_iteration = [&progress](int iteration, double g) {
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            py::object r = progress(iteration, g);
            return r.is_none() || r.cast<bool>();
        };
    }

    AssignmentResult res;
    {
        // The kernel reads only the arrays held by the arguments and `keep`, and takes the GIL
        // itself (briefly) in the callbacks above.
        py::gil_scoped_release release;
        res = assign(net, vdf, cls, opt);
    }

    py::dict out;
    const py::ssize_t K = static_cast<py::ssize_t>(res.class_flow.size());
    py::array_t<double> class_flow({K, m});
    for (py::ssize_t k = 0; k < K; ++k)
        std::copy(res.class_flow[k].begin(), res.class_flow[k].end(), class_flow.mutable_data(k, 0));
    out["link_flow"] = adopt(std::move(res.link_flow));
    out["class_flow"] = class_flow;
    out["link_time"] = adopt(std::move(res.link_time));
    out["gap_history"] = adopt(std::move(res.gap_history));
    out["iteration_seconds"] = adopt(std::move(res.iteration_seconds));
    out["relative_gap"] = res.relative_gap;
    out["total_cost"] = res.total_cost;
    out["shortest_path_cost"] = res.shortest_path_cost;
    out["total_travel_time"] = res.total_travel_time;
    out["beckmann"] = res.beckmann;
    out["average_excess_cost"] = res.average_excess_cost;
    out["iterations"] = res.iterations;
    out["converged"] = res.converged;
    out["stop_reason"] = res.stop_reason;
    out["unreachable_pairs"] = adopt(std::move(res.unreachable_pairs));
    out["unreachable_demand"] = adopt(std::move(res.unreachable_demand));
    out["assigned_demand"] = adopt(std::move(res.assigned_demand));
    out["intrazonal_demand"] = adopt(std::move(res.intrazonal_demand));
    out["bushes"] = res.bushes ? py::cast(std::const_pointer_cast<BushSolution>(res.bushes)) : py::none();
    return out;
}

AssignmentNetwork network_view(const carray<index_t>& fs_first, const carray<index_t>& fs_link,
                               const carray<index_t>& fs_head, const carray<index_t>& tail,
                               const carray<index_t>& head, index_t first_thru_node,
                               const carray<index_t>& zone_node) {
    AssignmentNetwork net;
    auto first = view(fs_first, "fs_first");
    if (first.size() < 1) raise_input("fs_first", "must have num_nodes + 1 entries");
    const py::ssize_t m = fs_link.shape(0);
    net.forward = StarView{first, view(fs_link, "fs_link"), view(fs_head, "fs_head", m)};
    net.tail = view(tail, "tail", m);
    net.head = view(head, "head", m);
    net.first_thru_node = first_thru_node;
    net.zone_node = view(zone_node, "zone_node");
    // The routing index validates the star; make sure it matches tail/head as well.
    const index_t n = static_cast<index_t>(first.size()) - 1;
    if (first[0] != 0 || first[first.size() - 1] != m) raise_input("fs_first", "must run from 0 to the number of links");
    for (index_t v = 0; v < n; ++v)
        for (index_t e = first[v]; e < first[v + 1]; ++e) {
            const index_t a = net.forward.link[e];
            if (e < 0 || e >= m || a < 0 || a >= m || net.tail[a] != v || net.head[a] != net.forward.other[e])
                raise_input("fs_link", "forward star does not match tail/head");
        }
    if (first_thru_node < 0 || first_thru_node > n) raise_input("first_thru_node", "outside [0, num_nodes]");
    return net;
}

std::vector<Span<const double>> value_views(const std::vector<carray<double>>& values, py::ssize_t m) {
    std::vector<Span<const double>> out;
    for (const auto& v : values) out.push_back(view(v, "values", m));
    return out;
}

// (V, Z, Z) skims along shortest paths at `cost`.
py::array_t<double> shortest_path_skims_py(const carray<index_t>& fs_first, const carray<index_t>& fs_link,
                                           const carray<index_t>& fs_head, const carray<index_t>& tail,
                                           const carray<index_t>& head, index_t first_thru_node,
                                           const carray<index_t>& zone_node, const carray<double>& cost,
                                           const std::vector<carray<double>>& values, int threads) {
    const AssignmentNetwork net = network_view(fs_first, fs_link, fs_head, tail, head, first_thru_node, zone_node);
    const py::ssize_t m = fs_link.shape(0), z = zone_node.shape(0), V = static_cast<py::ssize_t>(values.size());
    auto c = view(cost, "cost", m);
    auto vals = value_views(values, m);
    py::array_t<double> out({V, z, z});
    std::vector<Span<double>> outs;
    for (py::ssize_t v = 0; v < V; ++v) outs.emplace_back(out.mutable_data(v, 0, 0), static_cast<std::size_t>(z * z));
    {
        // Reads the argument arrays, writes `out` (not visible to Python until return).
        py::gil_scoped_release release;
        shortest_path_skims(net, c, vals, outs, threads);
    }
    return out;
}

// A copy of `base` (V, Z, Z) with the OD pairs of class cls that carry demand replaced by the
// flow-weighted averages over the bushes.
py::array_t<double> bush_average_skims_py(const std::shared_ptr<BushSolution>& sol, int cls,
                                          const std::vector<carray<double>>& values,
                                          const carray<double>& base, int threads) {
    const py::ssize_t m = sol->num_links, z = static_cast<py::ssize_t>(sol->zone_node.size());
    const py::ssize_t V = static_cast<py::ssize_t>(values.size());
    if (base.ndim() != 3 || base.shape(0) != V || base.shape(1) != z || base.shape(2) != z)
        raise_input("base", "expected a (values, zones, zones) array");
    auto vals = value_views(values, m);
    py::array_t<double> out({V, z, z});
    std::copy(base.data(), base.data() + V * z * z, out.mutable_data());
    std::vector<Span<double>> outs;
    for (py::ssize_t v = 0; v < V; ++v) outs.emplace_back(out.mutable_data(v, 0, 0), static_cast<std::size_t>(z * z));
    {
        py::gil_scoped_release release;  // the solution is immutable; `out` is ours
        bush_average_skims(*sol, cls, vals, outs, threads);
    }
    return out;
}

py::array_t<double> select_link_py(const std::shared_ptr<BushSolution>& sol, int cls,
                                   const carray<index_t>& links, int threads) {
    const py::ssize_t z = static_cast<py::ssize_t>(sol->zone_node.size());
    auto l = view(links, "links");
    py::array_t<double> out({z, z});
    std::fill(out.mutable_data(), out.mutable_data() + z * z, 0.0);
    Span<double> o(out.mutable_data(), static_cast<std::size_t>(z * z));
    {
        py::gil_scoped_release release;  // the solution is immutable; `out` is ours
        select_link(*sol, cls, l, o, threads);
    }
    return out;
}

py::list bush_path_flows_py(const std::shared_ptr<BushSolution>& sol, int cls, index_t origin,
                            index_t destination, std::int64_t max_paths, double min_flow) {
    std::vector<PathFlow> paths;
    {
        py::gil_scoped_release release;
        paths = bush_path_flows(*sol, cls, origin, destination, max_paths, min_flow);
    }
    py::list out;
    for (PathFlow& p : paths) out.append(py::make_tuple(adopt(std::move(p.links)), p.flow));
    return out;
}

py::array_t<double> bush_origin_flows_py(const std::shared_ptr<BushSolution>& sol, int cls, index_t origin) {
    std::vector<double> out(static_cast<std::size_t>(sol->num_links), 0.0);
    bush_origin_flows(*sol, cls, origin, out);
    return adopt(std::move(out));
}

}  // namespace

void register_assignment(py::module_& m) {
    m.def("link_performance", &link_performance_py, py::arg("vdf"), py::arg("free_flow_time"),
          py::arg("capacity"), py::arg("alpha"), py::arg("beta"), py::arg("flow"),
          "(time, derivative, integral) per link; vdf 0 = BPR, 1 = conical.");
    m.def("assign", &assign_py, py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
          py::arg("tail"), py::arg("head"), py::arg("first_thru_node"), py::arg("zone_node"),
          py::arg("vdf"), py::arg("free_flow_time"), py::arg("capacity"), py::arg("alpha"),
          py::arg("beta"), py::arg("classes"), py::arg("algorithm"), py::arg("gap"),
          py::arg("max_iterations"), py::arg("time_limit"), py::arg("threads"),
          py::arg("progress") = py::none(), py::arg("bush_inner_sweeps") = 40,
          py::arg("bush_sweep_reduction") = 0.03, py::arg("bush_extrapolation_sweeps") = 2,
          py::arg("keep_bushes") = true,
          py::arg("warm_bushes") = nullptr, py::arg("warm_flows") = py::none(),
          py::arg("warm_demand") = py::none(),
          "Static traffic assignment (see smartcore/assignment.hpp); returns a dict of arrays.");
    // Opaque: Algorithm B's origin-based solution, shared (immutable) between results and warm
    // starts. Python code reaches it only through the functions below.
    py::class_<BushSolution, std::shared_ptr<BushSolution>>(m, "BushSolution")
        .def_property_readonly("num_bushes", [](const BushSolution& s) { return bush_count(s); })
        .def_property_readonly("nbytes", [](const BushSolution& s) { return bush_memory_bytes(s); })
        .def_property_readonly("num_classes", [](const BushSolution& s) { return s.pce.size(); })
        .def("__repr__", [](const BushSolution& s) {
            return "<BushSolution: " + std::to_string(bush_count(s)) + " bushes, " +
                   std::to_string(bush_memory_bytes(s) >> 10) + " KiB>";
        });
    m.def("shortest_path_skims", &shortest_path_skims_py, py::arg("fs_first"), py::arg("fs_link"),
          py::arg("fs_head"), py::arg("tail"), py::arg("head"), py::arg("first_thru_node"),
          py::arg("zone_node"), py::arg("cost"), py::arg("values"), py::arg("threads"),
          "(V, Z, Z) sums of each value array along one shortest path per OD pair at `cost`.");
    m.def("bush_average_skims", &bush_average_skims_py, py::arg("bushes"), py::arg("cls"), py::arg("values"),
          py::arg("base"), py::arg("threads"),
          "base with the class's OD pairs that carry demand replaced by flow-weighted averages.");
    m.def("select_link", &select_link_py, py::arg("bushes"), py::arg("cls"), py::arg("links"),
          py::arg("threads"), "Z x Z flow using any of the links (cls -1: all classes in PCE).");
    m.def("bush_path_flows", &bush_path_flows_py, py::arg("bushes"), py::arg("cls"), py::arg("origin"),
          py::arg("destination"), py::arg("max_paths"), py::arg("min_flow"),
          "[(links, flow)] of one OD pair (zone indices), proportional decomposition.");
    m.def("bush_origin_flows", &bush_origin_flows_py, py::arg("bushes"), py::arg("cls"), py::arg("origin"),
          "Link flows (vehicles) of one origin zone's bush.");
}

}  // namespace smartcore::bind
