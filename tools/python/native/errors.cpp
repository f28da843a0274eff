#include "errors.h"

#include <algorithm>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"

namespace py = pybind11;

namespace subset::python {

std::string keyword_of(std::string parameter) {
  std::replace(parameter.begin(), parameter.end(), '-', '_');
  return parameter;
}

std::string parameter_of(std::string keyword) {
  std::replace(keyword.begin(), keyword.end(), '_', '-');
  return keyword;
}

void register_error_translation() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const ParamError& e) {
      const std::string line = fold_into_one_line(e.message() + " (" + keyword_of(e.parameter()) + ")");
      PyErr_SetString(PyExc_ValueError, line.c_str());
    } catch (const FileError& e) {
      // OSError(errno, message, filename) becomes the errno's subclass (FileNotFoundError, ...).
      py::object error = py::reinterpret_borrow<py::object>(PyExc_OSError)(e.error_number(), fold_into_one_line(e.message()), e.where());
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, fold_into_one_line(e.what()).c_str());
    } catch (const py::error_already_set&) {
      throw;  // pybind11's own: its translators know them
    } catch (const py::builtin_exception&) {
      throw;
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "out of memory");
    } catch (const std::exception& e) {
      // libtorch and the C++ runtime: their first line, without libtorch's backtrace (as the CLI).
      std::string line = format_unexpected_error_line(e, false);
      if (line.rfind("error: ", 0) == 0) line.erase(0, 7);
      PyErr_SetString(PyExc_RuntimeError, line.c_str());
    }
  });
}

}  // namespace subset::python
