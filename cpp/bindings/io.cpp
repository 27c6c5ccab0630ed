// Bindings for the text scanners (smartcore/textscan.hpp).
#include "pybind.hpp"
#include "smartcore/textscan.hpp"

namespace smartcore::bind {

namespace {

py::object error_tuple(const ScanError& e) {
    if (e.kind == ScanError::None) return py::none();
    return py::make_tuple(static_cast<int>(e.kind), e.line, e.column, py::bytes(e.token));
}

py::tuple scan_numeric_table_py(std::string_view text, std::int64_t first_line, std::size_t ncols,
                                char comment) {
    if (ncols == 0) raise_input("ncols", "must be > 0");
    NumericTable t;
    {
        // `text` points into the Python str/bytes argument, which the caller keeps alive.
        py::gil_scoped_release release;
        t = scan_numeric_table(text, first_line, ncols, comment);
    }
    const auto rows = static_cast<py::ssize_t>(t.row_line.size());
    auto err = error_tuple(t.error);
    return py::make_tuple(adopt(std::move(t.values), {rows, static_cast<py::ssize_t>(ncols)}),
                          adopt(std::move(t.row_line), {rows}), err);
}

py::tuple scan_tntp_trips_py(std::string_view text, std::int64_t first_line, char comment) {
    TripsTable t;
    {
        py::gil_scoped_release release;
        t = scan_tntp_trips(text, first_line, comment);
    }
    const auto n = static_cast<py::ssize_t>(t.line.size());
    auto err = error_tuple(t.error);
    const auto b = static_cast<py::ssize_t>(t.block_line.size());
    return py::make_tuple(adopt(std::move(t.origin), {n}), adopt(std::move(t.destination), {n}),
                          adopt(std::move(t.value), {n}), adopt(std::move(t.line), {n}),
                          adopt(std::move(t.block_origin), {b}),
                          adopt(std::move(t.block_line), {b}), err);
}

}  // namespace

void register_io(py::module_& m) {
    m.def("scan_numeric_table", &scan_numeric_table_py, py::arg("text"), py::arg("first_line"),
          py::arg("ncols"), py::arg("comment") = '~',
          "Numbers of a whitespace/';'-separated table -> (values[rows, ncols], row_line[rows], "
          "error) where error is None or (kind, line, column, token).");
    m.def("scan_tntp_trips", &scan_tntp_trips_py, py::arg("text"), py::arg("first_line"),
          py::arg("comment") = '~',
          "TNTP trips body -> (origin, destination, value, line, block_origin, block_line, error).");
}

}  // namespace smartcore::bind
