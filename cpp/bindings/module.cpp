// smartcore._core: the compiled kernel. One register_<area>() per area; no logic here.
#include "pybind.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "smartcore compiled kernel (internal: use the smartcore package API)";
    smartcore::bind::register_errors(m);
    smartcore::bind::register_graph(m);
    smartcore::bind::register_routing(m);
    smartcore::bind::register_io(m);
    smartcore::bind::register_assignment(m);
    smartcore::bind::register_signals(m);
}
