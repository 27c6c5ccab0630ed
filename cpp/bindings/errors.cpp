// Translate kernel exceptions into the Python error hierarchy defined in smartcore.errors.
#include "pybind.hpp"

namespace smartcore::bind {

void register_errors(py::module_& m) {
    (void)m;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const InputError& e) {
            // smartcore.errors is imported lazily: it is pure Python and always importable once
            // this module is (it lives in the same package).
            py::object cls = py::module_::import("smartcore.errors").attr("InputError");
            py::object err = cls(e.what());
            err.attr("field") = py::str(e.field());
            PyErr_SetObject(cls.ptr(), err.ptr());
        } catch (const Cancelled& e) {
            PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
        }
    });
}

}  // namespace smartcore::bind
