#pragma once
// One registration function per part of the module (one file each).
#include <pybind11/pybind11.h>

namespace subset::python {

void bind_select(pybind11::module_& m);     // select on arrays and stores, selection files
void bind_transform(pybind11::module_& m);  // PCA, random projections, autoencoder: fit/apply/save/load
void bind_store(pybind11::module_& m);      // feature stores: info, reading rows, import, extract
void bind_energy(pybind11::module_& m);     // the energy meter as a context manager's engine
void bind_nn(pybind11::module_& m);         // evaluate and condense (libtorch)

}  // namespace subset::python
