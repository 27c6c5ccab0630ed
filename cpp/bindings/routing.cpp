// Bindings for the routing kernel (smartcore/routing.hpp). Internal API: smartcore.routing wraps it.
#include <chrono>
#include <memory>

#include "pybind.hpp"
#include "smartcore/ch.hpp"
#include "smartcore/routing.hpp"

namespace smartcore::bind {

namespace {

// Progress and cancellation for a long kernel call (builds, batches). The kernel calls it on the
// calling thread with the GIL released; at most every 50 ms it takes the GIL to check for Ctrl-C
// and, when a Python `callback` is given, calls callback(done, total) at most every 0.5 s and
// once at the end. Ctrl-C, or a callback returning False, cancels: the kernel throws Cancelled,
// which the bindings raise as KeyboardInterrupt; an exception in the callback propagates. The
// callback is borrowed (a raw pointer, so that copying or destroying the ProgressFn needs no
// GIL): the binding's argument keeps it alive for the call.
ProgressFn progress_check(const py::object& callback) {
    using Clock = std::chrono::steady_clock;
    PyObject* cb = callback.is_none() ? nullptr : callback.ptr();
    const auto start = Clock::now();
    std::int64_t last_done = -1, last_total = -1;  // the last report, not repeated
    return [cb, checked = start, reported = start, last_done, last_total](std::int64_t done,
                                                                         std::int64_t total) mutable {
        const auto now = Clock::now();
        const bool end = done >= total;
        if (!end && now - checked < std::chrono::milliseconds(50)) return true;
        checked = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
            PyErr_Clear();  // re-raised as KeyboardInterrupt by the Cancelled translator
            return false;
        }
        if (cb != nullptr && (end || now - reported >= std::chrono::milliseconds(500)) &&
            (done != last_done || total != last_total)) {
            reported = now;
            last_done = done;
            last_total = total;
            const py::object r = py::reinterpret_borrow<py::object>(cb)(done, total);
            if (r.ptr() == Py_False) return false;
        }
        return true;
    };
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

// Runs f() with the GIL released and returns its result. Every binding checks and converts its
// arguments and allocates its outputs first, with the GIL held; f then reads only buffers the
// arguments keep alive, immutable indices and its own workspaces, and writes only fresh outputs.
template <class F>
auto without_gil(F&& f) {
    py::gil_scoped_release release;
    return f();
}

// A routing index (RoutingGraph, Hierarchy or TurnGraph) with its workspace pool. Immutable index
// + thread-safe pool, so one Python object can serve concurrent calls from several Python threads.
template <class I, class Pool>
struct PyIndex {
    using Index = I;
    std::shared_ptr<const Index> index;
    std::shared_ptr<Pool> pool = std::make_shared<Pool>();
};
using PyRoutingGraph = PyIndex<RoutingGraph, DijkstraPool>;
using PyHierarchy = PyIndex<Hierarchy, ChPool>;  // classic or customised
using PyTurnGraph = PyIndex<TurnGraph, TurnPool>;

struct PyCch {
    std::shared_ptr<const CustomizableCH> cch;
};

// The index make() returns, built with the GIL released, with a new pool.
template <class Py, class Make>
Py build(Make&& make) {
    return Py{without_gil([&] { return std::make_shared<const typename Py::Index>(make()); })};
}

// The outputs of a one-to-all tree: fresh dist and pred_link arrays of n entries, and their views.
struct TreeArrays {
    carray<double> dist;
    carray<index_t> pred;
    Span<double> d;
    Span<index_t> p;
    explicit TreeArrays(index_t n)
        : dist(n), pred(n), d(view_mut(dist, "dist")), p(view_mut(pred, "pred_link")) {}
};

// ------------------------------------------------------------------------------------------------
// Methods shared by the index types.

// RoutingGraph and TurnGraph: same topology, new link weights.
template <class Py>
Py with_weight(const Py& self, const carray<double>& weight) {
    auto w = view(weight, "weight");
    return build<Py>([&] { return self.index->with_weight(w); });
}

// RoutingGraph and TurnGraph: one tree, with a workspace from the pool.
template <class Py>
py::tuple tree(const Py& self, index_t origin, const std::optional<carray<index_t>>& targets, double radius) {
    const auto& g = *self.index;
    auto t = optional_ids(targets, "targets");
    TreeArrays out(g.num_nodes());
    without_gil([&] {
        auto q = self.pool->get(g.num_nodes());
        shortest_path_tree(g, *q, origin, t, radius, out.d, out.p);
    });
    return py::make_tuple(out.dist, out.pred);
}

template <class Py>
py::array_t<double> matrix(const Py& self, const carray<index_t>& origins, const carray<index_t>& targets,
                           int threads, const py::object& progress) {
    auto o = view(origins, "origins");
    auto t = view(targets, "targets");
    py::array_t<double> out({static_cast<py::ssize_t>(o.size()), static_cast<py::ssize_t>(t.size())});
    Span<double> flat(out.mutable_data(), o.size() * t.size());
    without_gil([&] { distance_matrix(*self.index, o, t, flat, threads, progress_check(progress), self.pool.get()); });
    return out;
}

template <class Py>
py::tuple paths(const Py& self, const carray<index_t>& origins, const carray<index_t>& dests, int threads,
                const py::object& progress) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    // Output sizes are known only after the searches, so the kernel fills C++ vectors and the
    // numpy arrays adopt them (no copy) once the GIL is back.
    PathBatch batch = without_gil(
        [&] { return shortest_paths(*self.index, o, d, threads, progress_check(progress), self.pool.get()); });
    return py::make_tuple(adopt(std::move(batch.cost)), adopt(std::move(batch.offsets)),
                          adopt(std::move(batch.links)));
}

// RoutingGraph and Hierarchy.
template <class Py>
py::array_t<double> costs(const Py& self, const carray<index_t>& origins, const carray<index_t>& dests,
                          int threads, const py::object& progress) {
    auto o = view(origins, "origins");
    auto d = view(dests, "destinations");
    py::array_t<double> out(static_cast<py::ssize_t>(o.size()));
    Span<double> flat(out.mutable_data(), o.size());
    without_gil([&] { shortest_path_costs(*self.index, o, d, flat, threads, progress_check(progress), self.pool.get()); });
    return out;
}

// distance_matrix and shortest_paths, which every index type has.
template <class Py>
py::class_<Py>& def_batches(py::class_<Py>& cls, const char* matrix_doc) {
    return cls
        .def("distance_matrix", &matrix<Py>, py::arg("origins"), py::arg("targets"), py::arg("threads") = 0,
             py::arg("progress") = py::none(), matrix_doc)
        .def("shortest_paths", &paths<Py>, py::arg("origins"), py::arg("destinations"), py::arg("threads") = 0,
             py::arg("progress") = py::none(), "(cost[q] float64, offsets[q+1] int64, links int32).");
}

template <class Py>
py::class_<Py>& def_costs(py::class_<Py>& cls) {
    return cls.def("shortest_path_costs", &costs<Py>, py::arg("origins"), py::arg("destinations"),
                   py::arg("threads") = 0, py::arg("progress") = py::none(), "cost[q] float64, without paths.");
}

// ------------------------------------------------------------------------------------------------
// Constructors and functions of one index type.

PyRoutingGraph make_graph(const carray<index_t>& first, const carray<index_t>& link,
                          const carray<index_t>& head, const carray<double>& weight,
                          index_t first_thru_node, bool reorder) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    const auto order = reorder ? RoutingGraph::Order::kLocality : RoutingGraph::Order::kInput;
    return build<PyRoutingGraph>([&] { return RoutingGraph(fs, w, first_thru_node, order); });
}

py::tuple view_tree(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head,
                    const carray<double>& weight, index_t first_thru_node, index_t origin,
                    const std::optional<carray<index_t>>& targets, double radius) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    auto t = optional_ids(targets, "targets");
    TreeArrays out(fs.num_nodes());
    without_gil([&] {
        const LinkWeightView g(fs, w, first_thru_node);
        DijkstraQuery q(fs.num_nodes());
        shortest_path_tree(g, q, origin, t, radius, out.d, out.p);
    });
    return py::make_tuple(out.dist, out.pred);
}

py::tuple reference_tree(const carray<index_t>& first, const carray<index_t>& link,
                         const carray<index_t>& head, const carray<double>& weight,
                         index_t first_thru_node, index_t origin) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    TreeArrays out(fs.num_nodes());
    without_gil([&] { reference_dijkstra(fs, w, first_thru_node, origin, out.d, out.p); });
    return py::make_tuple(out.dist, out.pred);
}

// Optional planar node coordinates: both or neither (empty spans), one value per node. With
// `used` false (a classic CH in greedy order) giving them is an error.
void coordinates(const std::optional<carray<double>>& node_x, const std::optional<carray<double>>& node_y,
                 index_t num_nodes, bool used, Span<const double>& x, Span<const double>& y) {
    if (node_x.has_value() != node_y.has_value()) raise_input("node_x", "give both node_x and node_y, or neither");
    if (node_x && !used) raise_input("node_x", "coordinates are used by order='dissection' only");
    if (!node_x) return;
    x = view(*node_x, "node_x", static_cast<py::ssize_t>(num_nodes));
    y = view(*node_y, "node_y", static_cast<py::ssize_t>(num_nodes));
}

PyHierarchy build_ch(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head,
                     const carray<double>& weight, index_t first_thru_node,
                     const std::optional<index_t>& witness_settle_limit,
                     const std::string& order, const std::optional<carray<double>>& node_x,
                     const std::optional<carray<double>>& node_y, const py::object& progress) {
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
    coordinates(node_x, node_y, fs.num_nodes(), opt.order == ChOrder::kDissection, opt.node_x, opt.node_y);
    return build<PyHierarchy>(
        [&] { return build_contraction_hierarchy(fs, w, first_thru_node, opt, progress_check(progress)); });
}

PyCch build_cch(const carray<index_t>& first, const carray<index_t>& link, const carray<index_t>& head,
                index_t first_thru_node, const std::optional<carray<double>>& node_x,
                const std::optional<carray<double>>& node_y, const py::object& progress) {
    const StarView fs = star(first, link, head);
    Span<const double> x, y;
    coordinates(node_x, node_y, fs.num_nodes(), true, x, y);
    return PyCch{without_gil(
        [&] { return std::make_shared<const CustomizableCH>(fs, first_thru_node, x, y, progress_check(progress)); })};
}

PyHierarchy customize(const PyCch& self, const carray<double>& weight) {
    auto w = view(weight, "weight");
    return build<PyHierarchy>([&] { return self.cch->customize(w); });
}

py::tuple hierarchy_tree(const PyHierarchy& self, index_t origin, const PyRoutingGraph& graph) {
    TreeArrays out(self.index->num_network_nodes());
    const bool ok = without_gil([&] {
        auto q = self.pool->get(self.index->topo->num_ranks());
        return phast_tree(*self.index, *q, origin, *graph.index, out.d, out.p);
    });
    return py::make_tuple(out.dist, out.pred, ok);
}

PyTurnGraph make_turn_graph(const carray<index_t>& first, const carray<index_t>& link,
                            const carray<index_t>& head, const carray<double>& weight,
                            index_t first_thru_node, const carray<index_t>& turn_from,
                            const carray<index_t>& turn_to, const carray<double>& turn_penalty) {
    const StarView fs = star(first, link, head);
    auto w = view(weight, "weight");
    auto tf = view(turn_from, "turns");
    auto tt = view(turn_to, "turns");
    auto tp = view(turn_penalty, "turns");
    return build<PyTurnGraph>([&] { return TurnGraph(fs, w, first_thru_node, tf, tt, tp); });
}

}  // namespace

void register_routing(py::module_& m) {
    // First: Hierarchy.tree takes a RoutingGraph, which its signature then names.
    py::class_<PyRoutingGraph> graph(m, "RoutingGraph",
                                     "Immutable routing index for one weight (see smartcore/routing.hpp).");
    graph
        .def(py::init(&make_graph), py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
             py::arg("weight"), py::arg("first_thru_node"), py::arg("reorder") = true)
        .def("with_weight", &with_weight<PyRoutingGraph>, py::arg("weight"),
             "Same topology and node order, new link weights.")
        .def_property_readonly("num_nodes", [](const PyRoutingGraph& s) { return s.index->num_nodes(); })
        .def_property_readonly("num_links", [](const PyRoutingGraph& s) { return s.index->num_links(); })
        .def_property_readonly("first_thru_node",
                               [](const PyRoutingGraph& s) { return s.index->first_thru_node(); })
        .def("tree", &tree<PyRoutingGraph>, py::arg("origin"), py::arg("targets") = py::none(),
             py::arg("radius") = kInf, "(dist[n] float64, pred_link[n] int32); unsettled: inf, -1.");
    def_costs(def_batches(graph, "float64[len(origins), len(targets)]; one Dijkstra per origin."));
    py::class_<PyHierarchy> hierarchy(m, "Hierarchy",
                                      "Searchable contraction hierarchy for one weight (see smartcore/ch.hpp).");
    hierarchy
        .def_property_readonly("num_nodes", [](const PyHierarchy& s) { return s.index->num_network_nodes(); })
        .def_property_readonly("num_edges", [](const PyHierarchy& s) { return s.index->topo->num_edges(); })
        .def("tree", &hierarchy_tree, py::arg("origin"), py::arg("graph"),
             "One-to-all by PHAST, predecessors from `graph` (the RoutingGraph of the same network "
             "and weight): (dist[n], pred_link[n], ok); ok False: use Dijkstra.");
    def_costs(def_batches(hierarchy, "float64[len(origins), len(targets)] by the bucket method."));
    py::class_<PyCch>(m, "CustomizableCH", "Metric-independent contraction hierarchy.")
        .def(py::init(&build_cch), py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
             py::arg("first_thru_node"), py::arg("node_x") = py::none(), py::arg("node_y") = py::none(),
             py::arg("progress") = py::none(),
             "node_x/node_y: planar coordinates for geometric cuts in the dissection (optional); "
             "progress(done, total): see smartcore.routing.Router.")
        .def("customize", &customize, py::arg("weight"), "The Hierarchy for one weight.")
        .def_property_readonly("num_edges", [](const PyCch& s) { return s.cch->topology()->num_edges(); })
        .def_property_readonly("num_triangles", [](const PyCch& s) { return s.cch->num_triangles(); });
    m.def("contraction_hierarchy", &build_ch, py::arg("fs_first"), py::arg("fs_link"),
          py::arg("fs_head"), py::arg("weight"), py::arg("first_thru_node"),
          py::arg("witness_settle_limit") = py::none(), py::arg("order") = "greedy", py::arg("node_x") = py::none(),
          py::arg("node_y") = py::none(), py::arg("progress") = py::none(),
          "Classic (weight-dependent) contraction hierarchy. order: 'greedy' (priority-driven) or "
          "'dissection' (nested dissection, with geometric cuts from node_x/node_y if given).");
    py::class_<PyTurnGraph> turns(m, "TurnGraph",
                                  "Edge-based routing index with turn penalties and bans (smartcore/routing.hpp).");
    turns
        .def(py::init(&make_turn_graph), py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
             py::arg("weight"), py::arg("first_thru_node"), py::arg("turn_from"), py::arg("turn_to"),
             py::arg("turn_penalty"))
        .def("with_weight", &with_weight<PyTurnGraph>, py::arg("weight"), "Same topology and turns, new weights.")
        .def_property_readonly("num_nodes", [](const PyTurnGraph& s) { return s.index->num_nodes(); })
        .def_property_readonly("num_turns", [](const PyTurnGraph& s) { return s.index->num_turns(); })
        .def("tree", &tree<PyTurnGraph>, py::arg("origin"), py::arg("targets") = py::none(),
             py::arg("radius") = kInf, "(dist[n] float64, last_link[n] int32); unsettled: inf, -1.");
    def_batches(turns, "float64[len(origins), len(targets)].");
    m.def("tree", &view_tree, py::arg("fs_first"), py::arg("fs_link"), py::arg("fs_head"),
          py::arg("weight"), py::arg("first_thru_node"), py::arg("origin"),
          py::arg("targets") = py::none(), py::arg("radius") = kInf,
          "One tree on the network's own arrays (zero copy): (dist[n], pred_link[n]).");
    m.def("reference_dijkstra", &reference_tree, py::arg("fs_first"), py::arg("fs_link"),
          py::arg("fs_head"), py::arg("weight"), py::arg("first_thru_node"), py::arg("origin"),
          "Textbook binary-heap Dijkstra (benchmark baseline): (dist[n], pred_link[n]).");
}

}  // namespace smartcore::bind
