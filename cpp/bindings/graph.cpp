// Bindings for CSR construction and connectivity (smartcore/graph.hpp).
#include "pybind.hpp"
#include "smartcore/graph.hpp"

namespace smartcore::bind {

namespace {

// Forward and reverse star of (tail, head) -> (first, link, other) numpy arrays.
py::tuple build_star_py(index_t num_nodes, const carray<index_t>& key, const carray<index_t>& other_end) {
    auto k = view(key, "key");
    auto o = view(other_end, "other", key.shape(0));
    if (num_nodes < 0) raise_input("num_nodes", "must be >= 0");
    carray<index_t> first(static_cast<py::ssize_t>(num_nodes) + 1), link(key.shape(0)), other(key.shape(0));
    auto f = view_mut(first, "first"), l = view_mut(link, "link"), ot = view_mut(other, "other");
    {
        // Validation reads only the caller's arrays, which the caller keeps alive for the call.
        py::gil_scoped_release release;
        validate_links(num_nodes, k, o);
        build_star(num_nodes, k, o, f, l, ot);
    }
    return py::make_tuple(first, link, other);
}

py::tuple weak_components_py(index_t num_nodes, const carray<index_t>& tail, const carray<index_t>& head) {
    auto t = view(tail, "tail");
    auto h = view(head, "head", tail.shape(0));
    if (num_nodes < 0) raise_input("num_nodes", "must be >= 0");
    carray<index_t> label(num_nodes);
    auto lab = view_mut(label, "label");
    index_t count;
    {
        py::gil_scoped_release release;
        count = weak_components(num_nodes, t, h, lab);
    }
    return py::make_tuple(count, label);
}

}  // namespace

void register_graph(py::module_& m) {
    m.def("build_star", &build_star_py, py::arg("num_nodes"), py::arg("key"), py::arg("other"),
          "Stable counting sort of links on key -> (first[n+1], link[m], other[m]) (int32).");
    m.def("weak_components", &weak_components_py, py::arg("num_nodes"), py::arg("tail"),
          py::arg("head"), "Weakly connected components -> (count, label[n]); label = min node.");
}

}  // namespace smartcore::bind
