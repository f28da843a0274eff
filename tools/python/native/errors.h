#pragma once
// libsubset's errors as Python exceptions, with the CLI's message: ParamError -> ValueError (the
// parameter named as its keyword argument), FileError -> OSError of its errno (FileNotFoundError,
// FileExistsError, ...), Interrupted -> KeyboardInterrupt, any other Error -> RuntimeError.
#include <pybind11/pybind11.h>

namespace subset::python {

void register_error_translation();

// A library parameter name ("lr-img") as its keyword argument ("lr_img"), and back.
std::string keyword_of(std::string parameter);
std::string parameter_of(std::string keyword);

}  // namespace subset::python
