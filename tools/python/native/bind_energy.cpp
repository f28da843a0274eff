// The energy meter of `subset energy` (libsubset/energy/meter.h) as the engine of the package's
// `libsubset.energy.track()` context manager, and the text of a report (energy::format_report).
#include <pybind11/stl.h>

#include <memory>

#include "bindings.h"
#include "call.h"
#include "convert.h"
#include "libsubset/core/error.h"
#include "libsubset/energy/meter.h"
#include "libsubset/energy/report.h"

namespace py = pybind11;

namespace subset::python {
namespace {

// A meter started from Python: start() and stop() are short (listing the powercap zones, loading
// NVML, joining the sampler thread) but may block for a moment, so they run without the GIL.
class Meter {
 public:
  explicit Meter(const py::dict& accounting) : meter_(std::make_unique<energy::EnergyMeter>(meter_options(accounting))) {}

  void start() {
    {
      py::gil_scoped_release release;
      SignalsBlocked blocked;  // the sampler thread inherits the mask: Ctrl-C is left to Python's threads
      meter_->start();
    }
    running_ = true;
  }

  py::object stop() {
    SUBSET_CHECK(running_, "energy meter", "stop() called before start()");
    energy::EnergyReport report;
    {
      py::gil_scoped_release release;
      report = meter_->stop();
    }
    running_ = false;
    return to_python(energy::to_json(report));
  }

  bool running() const { return running_; }

 private:
  std::unique_ptr<energy::EnergyMeter> meter_;
  bool running_ = false;
};

}  // namespace

void bind_energy(py::module_& m) {
  py::class_<Meter>(m, "EnergyMeter")
      .def(py::init<const py::dict&>(), py::arg("accounting"))
      .def("start", &Meter::start)
      .def("stop", &Meter::stop)
      .def_property_readonly("running", &Meter::running);
  m.def("format_energy_report", [](const py::object& report) {
    return energy::format_report(energy::report_from_json(from_python(report)));
  }, py::arg("report"));
}

}  // namespace subset::python
