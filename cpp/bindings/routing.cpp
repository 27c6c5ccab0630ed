// Bindings for the routing kernel (smartcore/routing.hpp). Internal API: smartcore.routing wraps it.
#include <chrono>
#include <memory>

#include "pybind.hpp"
#include "smartcore/ch.hpp"
#include "smartcore/routing.hpp"

namespace smartcore::bind {

namespace {

// Progress callback that turns Ctrl-C into cancellation. It runs on the calling thread with the
// GIL released, so it takes the GIL, but at most every 50 ms to keep contention negligible.
ProgressFn interrupt_check() {
    auto last = std::chrono::steady_clock::now();
    return [last](std::int64_t, std::int64_t) mutable {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(50)) return true;
        last = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
            PyErr_Clear();  // re-raised as KeyboardInterrupt by the Cancelled translator
            return false;
        }
        return true;
    };
}

// A numpy array that takes ownership of a vector's buffer (no copy). Call with the GIL held.
template <class T>
py::array_t<T> adopt(std::vector<T>&& v) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {sizeof(T)}, owned->data(),
                          free_when_done);
}

StarView star(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head) {
    auto f = view(first, "fs_first");
    if (f.size() < 1) raise_input("fs_first", "must have num_nodes + 1 entries");
    return {f, view(link, "fs_link"), view(head, "fs_head", link.shape(0))};
}

Span<const index_t> optional_ids(const std::optional<carray<index_t>>& a, const char* field) {
    if (!a) return {};
    return view(*a, field);
}

// The routing index with its workspace pool. Immutable graph + thread-safe pool, so one Python
// object can serve concurrent calls from several Python threads.
struct PyRoutingGraph {
    std::shared_ptr<const RoutingGraph> graph;
    std::shared_ptr<DijkstraPool> pool = std::make_shared<DijkstraPool>();
};

PyRoutingGraph make_graph(const carray<index_t>& first, const carray<index_t>& link,
                          const carray<index_t>& head, const carray<double>& weight,
                          index_t first_thru_node, bool reorder) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    PyRoutingGraph out;
    {
        // Reads the caller's arrays (kept alive by the arguments) and builds a new graph.
        py::gil_scoped_release release;
        out.graph = std::make_shared<const RoutingGraph>(
            fs, w, first_thru_node, reorder ? RoutingGraph::Order::kLocality : RoutingGraph::Order::kInput);
    }
    return out;
}

PyRoutingGraph with_weight(const PyRoutingGraph& self, const carray<double>& weight) {
    auto w = view(weight, "weight");
    PyRoutingGraph out;
    {
        py::gil_scoped_release release;
        out.graph = std::make_shared<const RoutingGraph>(self.graph->with_weight(w));
    }
    return out;
}

py::tuple graph_tree(const PyRoutingGraph& self, index_t origin, const std::optional<carray<index_t>>& targets,
                     double radius) {
    const RoutingGraph& g = *self.graph;
    auto t = optional_ids(targets, "targets");
    carray<double> dist(g.num_nodes());
    carray<index_t> pred(g.num_nodes());
    auto d = view_mut(dist, "dist");
    auto p = view_mut(pred, "pred_link");
    {
        // The graph is immutable and the workspace is ours alone; outputs are fresh arrays.
        py::gil_scoped_release release;
        auto q = self.pool->get(g.num_nodes());
        shortest_path_tree(g, *q, origin, t, radius, d, p);
    }
    return py::make_tuple(dist, pred);
}

py::array_t<double> graph_matrix(const PyRoutingGraph& self, const carray<index_t>& origins,
                                 const carray<index_t>& targets, int threads) {
    auto o = view(origins, "origins");
    auto t = view(targets, "targets");
    py::array_t<double> out({static_cast<py::ssize_t>(o.size()), static_cast<py::ssize_t>(t.size())});
    Span<double> flat(out.mutable_data(), o.size() * t.size());
    {
        py::gil_scoped_release release;
        distance_matrix(*self.graph, o, t, flat, threads, interrupt_check(), self.pool.get());
    }
    return out;
}

py::tuple graph_paths(const PyRoutingGraph& self, const carray<index_t>& origins,
                      const carray<index_t>& dests, int threads) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    PathBatch batch;
    {
        // Output sizes are known only after the searches, so the kernel fills C++ vectors and the
        // numpy arrays adopt them (no copy) once the GIL is back.
        py::gil_scoped_release release;
        batch = shortest_paths(*self.graph, o, d, threads, interrupt_check(), self.pool.get());
    }
    return py::make_tuple(adopt(std::move(batch.cost)), adopt(std::move(batch.offsets)),
                          adopt(std::move(batch.links)));
}

py::array_t<double> graph_costs(const PyRoutingGraph& self, const carray<index_t>& origins,
                                const carray<index_t>& dests, int threads) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    py::array_t<double> out(static_cast<py::ssize_t>(o.size()));
    Span<double> flat(out.mutable_data(), o.size());
    {
        py::gil_scoped_release release;
        shortest_path_costs(*self.graph, o, d, flat, threads, interrupt_check(), self.pool.get());
    }
    return out;
}

py::tuple view_tree(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head,
                    const carray<double>& weight, index_t first_thru_node, index_t origin,
                    const std::optional<carray<index_t>>& targets, double radius) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    auto t = optional_ids(targets, "targets");
    const index_t n = fs.num_nodes();
    carray<double> dist(n);
    carray<index_t> pred(n);
    auto d = view_mut(dist, "dist");
    auto p = view_mut(pred, "pred_link");
    {
        py::gil_scoped_release release;
        const LinkWeightView g(fs, w, first_thru_node);
        DijkstraQuery q(n);
        shortest_path_tree(g, q, origin, t, radius, d, p);
    }
    return py::make_tuple(dist, pred);
}

py::tuple reference_tree(const carray<index_t>& first, const carray<index_t>& link,
                         const carray<index_t>& head, const carray<double>& weight,
                         index_t first_thru_node, index_t origin) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    const index_t n = fs.num_nodes();
    carray<double> dist(n);
    carray<index_t> pred(n);
    auto d = view_mut(dist, "dist");
    auto p = view_mut(pred, "pred_link");
    {
        py::gil_scoped_release release;
        reference_dijkstra(fs, w, first_thru_node, origin, d, p);
    }
    return py::make_tuple(dist, pred);
}

// A searchable hierarchy (classic or customised) with its workspace pool; immutable + thread-safe.
struct PyHierarchy {
    std::shared_ptr<const Hierarchy> h;
    std::shared_ptr<ChPool> pool = std::make_shared<ChPool>();
};

struct PyCch {
    std::shared_ptr<const CustomizableCH> cch;
};

PyHierarchy build_ch(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head,
                     const carray<double>& weight, index_t first_thru_node,
                     const std::optional<index_t>& witness_settle_limit,
                     const std::string& order, const std::optional<carray<double>>& node_x,
                     const std::optional<carray<double>>& node_y) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    if (witness_settle_limit && *witness_settle_limit < 1)
        raise_input("witness_settle_limit", "must be >= 1 (None: the order's default, greedy 500, dissection 100)");
    ChOptions opt;
    opt.witness_settle_limit = witness_settle_limit.value_or(0);  // 0: the order's default
    if (order == "greedy") {
        opt.order = ChOrder::kGreedy;
    } else if (order == "dissection") {
        opt.order = ChOrder::kDissection;
    } else {
        raise_input("order", "must be 'greedy' or 'dissection', got '" + order + "'");
    }
    if (node_x.has_value() != node_y.has_value()) raise_input("node_x", "give both node_x and node_y, or neither");
    if (node_x && opt.order != ChOrder::kDissection)
        raise_input("node_x", "coordinates are used by order='dissection' only");
    if (node_x) {
        opt.node_x = view(*node_x, "node_x", static_cast<py::ssize_t>(fs.num_nodes()));
        opt.node_y = view(*node_y, "node_y", static_cast<py::ssize_t>(fs.num_nodes()));
    }
    PyHierarchy out;
    {
        py::gil_scoped_release release;  // the kernel reads only the numpy buffers kept alive above
        out.h = std::make_shared<const Hierarchy>(
            build_contraction_hierarchy(fs, w, first_thru_node, opt, interrupt_check()));
    }
    return out;
}

PyCch build_cch(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head,
                index_t first_thru_node, const std::optional<carray<double>>& node_x,
                const std::optional<carray<double>>& node_y) {
    const StarView fs = star(first, link, head);
    if (node_x.has_value() != node_y.has_value()) raise_input("node_x", "give both node_x and node_y, or neither");
    Span<const double> x, y;
    if (node_x) {
        x = view(*node_x, "node_x", static_cast<py::ssize_t>(fs.num_nodes()));
        y = view(*node_y, "node_y", static_cast<py::ssize_t>(fs.num_nodes()));
    }
    PyCch out;
    {
        py::gil_scoped_release release;
        out.cch = std::make_shared<const CustomizableCH>(fs, first_thru_node, x, y, interrupt_check());
    }
    return out;
}

PyHierarchy customize(const PyCch& self, const carray<double>& weight) {
    auto w = view(weight, "weight");
    PyHierarchy out;
    {
        py::gil_scoped_release release;
        out.h = std::make_shared<const Hierarchy>(self.cch->customize(w));
    }
    return out;
}

py::array_t<double> hierarchy_matrix(const PyHierarchy& self, const carray<index_t>& origins,
                                     const carray<index_t>& targets, int threads) {
    auto o = view(origins, "origins");
    auto t = view(targets, "targets");
    py::array_t<double> out({static_cast<py::ssize_t>(o.size()), static_cast<py::ssize_t>(t.size())});
    Span<double> flat(out.mutable_data(), o.size() * t.size());
    {
        py::gil_scoped_release release;
        distance_matrix(*self.h, o, t, flat, threads, interrupt_check(), self.pool.get());
    }
    return out;
}

py::tuple hierarchy_paths(const PyHierarchy& self, const carray<index_t>& origins,
                          const carray<index_t>& dests, int threads) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    PathBatch batch;
    {
        py::gil_scoped_release release;
        batch = shortest_paths(*self.h, o, d, threads, interrupt_check(), self.pool.get());
    }
    return py::make_tuple(adopt(std::move(batch.cost)), adopt(std::move(batch.offsets)),
                          adopt(std::move(batch.links)));
}

py::tuple hierarchy_tree(const PyHierarchy& self, index_t origin, const PyRoutingGraph& graph) {
    const index_t n = self.h->num_network_nodes();
    carray<double> dist(n);
    carray<index_t> pred(n);
    auto d = view_mut(dist, "dist");
    auto p = view_mut(pred, "pred_link");
    bool ok = false;
    {
        // Immutable hierarchy and graph, our own workspace, fresh outputs.
        py::gil_scoped_release release;
        auto q = self.pool->get(self.h->topo->num_ranks());
        ok = phast_tree(*self.h, *q, origin, *graph.graph, d, p);
    }
    return py::make_tuple(dist, pred, ok);
}

py::array_t<double> hierarchy_costs(const PyHierarchy& self, const carray<index_t>& origins,
                                    const carray<index_t>& dests, int threads) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    py::array_t<double> out(static_cast<py::ssize_t>(o.size()));
    Span<double> flat(out.mutable_data(), o.size());
    {
        py::gil_scoped_release release;
        shortest_path_costs(*self.h, o, d, flat, threads, interrupt_check(), self.pool.get());
    }
    return out;
}

// Edge-based routing index (turn penalties and bans) with its workspace pool.
struct PyTurnGraph {
    std::shared_ptr<const TurnGraph> graph;
    std::shared_ptr<TurnPool> pool = std::make_shared<TurnPool>();
};

PyTurnGraph make_turn_graph(const carray<index_t>& first, const carray<index_t>& link,
                            const carray<index_t>& head, const carray<double>& weight,
                            index_t first_thru_node, const carray<index_t>& turn_from,
                            const carray<index_t>& turn_to, const carray<double>& turn_penalty) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    auto tf = view(turn_from, "turns");
    auto tt = view(turn_to, "turns");
    auto tp = view(turn_penalty, "turns");
    PyTurnGraph out;
    {
        py::gil_scoped_release release;
        out.graph = std::make_shared<const TurnGraph>(fs, w, first_thru_node, tf, tt, tp);
    }
    return out;
}

PyTurnGraph turn_with_weight(const PyTurnGraph& self, const carray<double>& weight) {
    auto w = view(weight, "weight");
    PyTurnGraph out;
    {
        py::gil_scoped_release release;
        out.graph = std::make_shared<const TurnGraph>(self.graph->with_weight(w));
    }
    return out;
}

py::tuple turn_tree(const PyTurnGraph& self, index_t origin, const std::optional<carray<index_t>>& targets,
                    double radius) {
    const TurnGraph& g = *self.graph;
    auto t = optional_ids(targets, "targets");
    carray<double> dist(g.num_nodes());
    carray<index_t> pred(g.num_nodes());
    auto d = view_mut(dist, "dist");
    auto p = view_mut(pred, "pred_link");
    {
        py::gil_scoped_release release;
        auto q = self.pool->get(g.num_nodes());
        shortest_path_tree(g, *q, origin, t, radius, d, p);
    }
    return py::make_tuple(dist, pred);
}

py::array_t<double> turn_matrix(const PyTurnGraph& self, const carray<index_t>& origins,
                                const carray<index_t>& targets, int threads) {
    auto o = view(origins, "origins");
    auto t = view(targets, "targets");
    py::array_t<double> out({static_cast<py::ssize_t>(o.size()), static_cast<py::ssize_t>(t.size())});
    Span<double> flat(out.mutable_data(), o.size() * t.size());
    {
        py::gil_scoped_release release;
        distance_matrix(*self.graph, o, t, flat, threads, interrupt_check(), self.pool.get());
    }
    return out;
}

py::tuple turn_paths(const PyTurnGraph& self, const carray<index_t>& origins, const carray<index_t>& dests,
                     int threads) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    PathBatch batch;
    {
        py::gil_scoped_release release;
        batch = shortest_paths(*self.graph, o, d, threads, interrupt_check(), self.pool.get());
    }
    return py::make_tuple(adopt(std::move(batch.cost)), adopt(std::move(batch.offsets)),
                          adopt(std::move(batch.links)));
}

}  // namespace

void register_routing(py::module_& m) {
    py::class_<PyHierarchy>(m, "Hierarchy",
                            "Searchable contraction hierarchy for one weight (see smartcore/ch.hpp).")
        .def_property_readonly("num_nodes", [](const PyHierarchy& s) { return s.h->num_network_nodes(); })
        .def_property_readonly("num_edges", [](const PyHierarchy& s) { return s.h->topo->num_edges(); })
        .def("distance_matrix", &hierarchy_matrix, py::arg("origins"), py::arg("targets"),
             py::arg("threads") = 0, "float64[len(origins), len(targets)] by the bucket method.")
        .def("shortest_paths", &hierarchy_paths, py::arg("origins"), py::arg("destinations"),
             py::arg("threads") = 0, "(cost[q] float64, offsets[q+1] int64, links int32).")
        .def("shortest_path_costs", &hierarchy_costs, py::arg("origins"), py::arg("destinations"),
             py::arg("threads") = 0, "cost[q] float64, without paths.")
        .def("tree", &hierarchy_tree, py::arg("origin"), py::arg("graph"),
             "One-to-all by PHAST, predecessors from `graph` (the RoutingGraph of the same network "
             "and weight): (dist[n], pred_link[n], ok); ok False: use Dijkstra.");
    py::class_<PyCch>(m, "CustomizableCH", "Metric-independent contraction hierarchy.")
        .def(py::init(&build_cch), py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
             py::arg("first_thru_node"), py::arg("node_x") = py::none(), py::arg("node_y") = py::none(),
             "node_x/node_y: planar coordinates for geometric cuts in the dissection (optional).")
        .def("customize", &customize, py::arg("weight"), "The Hierarchy for one weight.")
        .def_property_readonly("num_edges", [](const PyCch& s) { return s.cch->topology()->num_edges(); })
        .def_property_readonly("num_triangles", [](const PyCch& s) { return s.cch->num_triangles(); });
    m.def("contraction_hierarchy", &build_ch, py::arg("fs_first"), py::arg("fs_link"),
          py::arg("fs_head"), py::arg("weight"), py::arg("first_thru_node"),
          py::arg("witness_settle_limit") = py::none(), py::arg("order") = "greedy", py::arg("node_x") = py::none(),
          py::arg("node_y") = py::none(),
          "Classic (weight-dependent) contraction hierarchy. order: 'greedy' (priority-driven) or "
          "'dissection' (nested dissection, with geometric cuts from node_x/node_y if given).");
    py::class_<PyRoutingGraph>(m, "RoutingGraph",
                               "Immutable routing index for one weight (see smartcore/routing.hpp).")
        .def(py::init(&make_graph), py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
             py::arg("weight"), py::arg("first_thru_node"), py::arg("reorder") = true)
        .def("with_weight", &with_weight, py::arg("weight"),
             "Same topology and node order, new link weights.")
        .def_property_readonly("num_nodes", [](const PyRoutingGraph& s) { return s.graph->num_nodes(); })
        .def_property_readonly("num_links", [](const PyRoutingGraph& s) { return s.graph->num_links(); })
        .def_property_readonly("first_thru_node",
                               [](const PyRoutingGraph& s) { return s.graph->first_thru_node(); })
        .def("tree", &graph_tree, py::arg("origin"), py::arg("targets") = py::none(),
             py::arg("radius") = kInf, "(dist[n] float64, pred_link[n] int32); unsettled: inf, -1.")
        .def("distance_matrix", &graph_matrix, py::arg("origins"), py::arg("targets"),
             py::arg("threads") = 0, "float64[len(origins), len(targets)]; one Dijkstra per origin.")
        .def("shortest_paths", &graph_paths, py::arg("origins"), py::arg("destinations"),
             py::arg("threads") = 0, "(cost[q] float64, offsets[q+1] int64, links int32).")
        .def("shortest_path_costs", &graph_costs, py::arg("origins"), py::arg("destinations"),
             py::arg("threads") = 0, "cost[q] float64, without paths.");
    py::class_<PyTurnGraph>(m, "TurnGraph",
                            "Edge-based routing index with turn penalties and bans (smartcore/routing.hpp).")
        .def(py::init(&make_turn_graph), py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
             py::arg("weight"), py::arg("first_thru_node"), py::arg("turn_from"), py::arg("turn_to"),
             py::arg("turn_penalty"))
        .def("with_weight", &turn_with_weight, py::arg("weight"), "Same topology and turns, new weights.")
        .def_property_readonly("num_nodes", [](const PyTurnGraph& s) { return s.graph->num_nodes(); })
        .def_property_readonly("num_turns", [](const PyTurnGraph& s) { return s.graph->num_turns(); })
        .def("tree", &turn_tree, py::arg("origin"), py::arg("targets") = py::none(),
             py::arg("radius") = kInf, "(dist[n] float64, last_link[n] int32); unsettled: inf, -1.")
        .def("distance_matrix", &turn_matrix, py::arg("origins"), py::arg("targets"),
             py::arg("threads") = 0, "float64[len(origins), len(targets)].")
        .def("shortest_paths", &turn_paths, py::arg("origins"), py::arg("destinations"),
             py::arg("threads") = 0, "(cost[q] float64, offsets[q+1] int64, links int32).");
    m.def("tree", &view_tree, py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
          py::arg("weight"), py::arg("first_thru_node"), py::arg("origin"),
          py::arg("targets") = py::none(), py::arg("radius") = kInf,
          "One tree on the network's own arrays (zero copy): (dist[n], pred_link[n]).");
    m.def("reference_dijkstra", &reference_tree, py::arg("fs_first"), py::arg("fs_link"),
          py::arg("fs_head"), py::arg("weight"), py::arg("first_thru_node"), py::arg("origin"),
          "Textbook binary-heap Dijkstra (benchmark baseline): (dist[n], pred_link[n]).");
}

}  // namespace smartcore::bind
