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

py::tuple strong_components_py(const carray<index_t>& fs_first, const carray<index_t>& fs_link,
                               const carray<index_t>& fs_head, const carray<index_t>& bs_first,
                               const carray<index_t>& bs_link, const carray<index_t>& bs_tail) {
    const py::ssize_t n1 = fs_first.ndim() == 1 ? fs_first.shape(0) : 0;
    if (n1 < 1) raise_input("fs_first", "expected num_nodes + 1 offsets");
    const py::ssize_t m = fs_link.ndim() == 1 ? fs_link.shape(0) : -1;
    StarView fs{view(fs_first, "fs_first"), view(fs_link, "fs_link", m), view(fs_head, "fs_head", m)};
    StarView bs{view(bs_first, "bs_first", n1), view(bs_link, "bs_link", m), view(bs_tail, "bs_tail", m)};
    const index_t n = static_cast<index_t>(n1 - 1);
    // Validate the stars (monotone offsets, in-range ends) so a malformed call cannot crash.
    for (const StarView* s : {&fs, &bs}) {
        if (s->first[0] != 0 || s->first[n] != static_cast<index_t>(m))
            raise_input("first", "star offsets must start at 0 and end at num_links");
        for (index_t v = 0; v < n; ++v)
            if (s->first[v] > s->first[v + 1]) raise_input("first", "star offsets must not decrease");
        for (std::size_t i = 0; i < s->other.size(); ++i)
            if (s->other[i] < 0 || s->other[i] >= n) raise_input("head", "node index out of range");
    }
    carray<index_t> label(n);
    auto lab = view_mut(label, "label");
    index_t count;
    {
        py::gil_scoped_release release;
        count = strong_components(fs, bs, lab);
    }
    return py::make_tuple(count, label);
}

}  // namespace

void register_graph(py::module_& m) {
    m.def("build_star", &build_star_py, py::arg("num_nodes"), py::arg("key"), py::arg("other"),
          "Stable counting sort of links on key -> (first[n+1], link[m], other[m]) (int32).");
    m.def("weak_components", &weak_components_py, py::arg("num_nodes"), py::arg("tail"),
          py::arg("head"), "Weakly connected components -> (count, label[n]); label = min node.");
    m.def("strong_components", &strong_components_py, py::arg("fs_first"), py::arg("fs_link"),
          py::arg("fs_head"), py::arg("bs_first"), py::arg("bs_link"), py::arg("bs_tail"),
          "Strongly connected components -> (count, label[n]); label = min node of the component.");
}

}  // namespace smartcore::bind
