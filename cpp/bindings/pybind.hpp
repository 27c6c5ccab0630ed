// The one include point for pybind11 in smartcore, so that every binding file sees the same
// configuration, plus the helpers every binding uses to check numpy arguments.
//
// Pattern for every binding: check shapes and ranges with the GIL held (nothing Python can pass
// may crash the kernel), allocate outputs with the GIL held, release the GIL for the kernel call.
#pragma once

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "smartcore/common.hpp"

namespace py = pybind11;

namespace smartcore::bind {

// A C-contiguous, aligned numpy array of exactly dtype T; `forcecast` is off so that passing the
// wrong dtype is an error here, not a silent copy (the Python layer converts explicitly).
template <class T>
using carray = py::array_t<T, py::array::c_style>;

// A numpy array that takes ownership of a vector's buffer (no copy), 1-D or of the given shape
// (whose product must be v.size()); a capsule keeps the vector as the array's base and frees it
// with the array. Call with the GIL held.
template <class T>
py::array_t<T> adopt(std::vector<T>&& v, std::vector<py::ssize_t> shape = {}) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule base(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    if (shape.empty()) shape.push_back(static_cast<py::ssize_t>(owned->size()));
    return py::array_t<T>(shape, owned->data(), base);
}

[[noreturn]] inline void raise_input(const std::string& field, const std::string& msg) {
    throw InputError(field, -1, field + ": " + msg);
}

template <class T>
Span<const T> view(const carray<T>& a, const char* field, py::ssize_t expected = -1) {
    if (a.ndim() != 1) raise_input(field, "expected a 1-D array, got " + std::to_string(a.ndim()) + "-D");
    if (expected >= 0 && a.shape(0) != expected)
        raise_input(field, "expected length " + std::to_string(expected) + ", got " +
                               std::to_string(a.shape(0)));
    return {a.data(), static_cast<std::size_t>(a.shape(0))};
}

template <class T>
Span<T> view_mut(carray<T>& a, const char* field, py::ssize_t expected = -1) {
    if (a.ndim() != 1) raise_input(field, "expected a 1-D array");
    if (expected >= 0 && a.shape(0) != expected)
        raise_input(field, "expected length " + std::to_string(expected) + ", got " +
                               std::to_string(a.shape(0)));
    return {a.mutable_data(), static_cast<std::size_t>(a.shape(0))};
}

void register_errors(py::module_& m);
void register_graph(py::module_& m);
void register_routing(py::module_& m);
void register_io(py::module_& m);
void register_assignment(py::module_& m);
void register_signals(py::module_& m);

}  // namespace smartcore::bind
