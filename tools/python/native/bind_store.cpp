// Feature stores: opening one (its StoreInfo, as `subset info --json`), reading its labels and rows
// on demand, `subset import` (libsubset/io/importers.h) and `subset extract` (libsubset/io/extract.h).
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <variant>

#include "bindings.h"
#include "call.h"
#include "convert.h"
#include "errors.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/params.h"
#include "libsubset/energy/meter.h"
#include "libsubset/energy/report.h"
#include "libsubset/io/describe_file.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/importers.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"

namespace py = pybind11;

namespace subset::python {
namespace {

io::Split split_of(bool test) { return test ? io::Split::Test : io::Split::Train; }

// An open store and its feature arrays, opened once: opening a dataset (and checking its shape)
// costs ten times a one-row read, which a DataLoader does per item.
struct OpenStore {
  explicit OpenStore(io::FeatureStore s) : store(std::move(s)) {}
  io::FeatureStore store;
  std::optional<io::FeatureArray> arrays[2];

  const io::FeatureArray& features(bool test) {
    std::optional<io::FeatureArray>& array = arrays[test ? 1 : 0];
    if (!array) array.emplace(store.features(test ? io::Split::Test : io::Split::Train));
    return *array;
  }
};

OpenStore open_store(const std::string& path) {
  std::optional<io::FeatureStore> store;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] { store.emplace(io::FeatureStore::open(path)); });
  return OpenStore(std::move(*store));
}

void check_split(const io::FeatureStore& store, bool test) {
  if (test) SUBSET_CHECK(store.info().has_test, store.path(), "store has no test split (/test/features)");
}

py::object labels(const OpenStore& open, bool test) {
  const io::FeatureStore& store = open.store;
  check_split(store, test);
  const bool present = test ? store.info().has_test_labels : store.info().has_labels;
  if (!present) return py::none();
  std::vector<int64_t> values;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] { values = store.labels(split_of(test)); });
  return to_numpy(values);
}

py::object weights(const OpenStore& open) {
  const io::FeatureStore& store = open.store;
  if (!store.info().has_weights) return py::none();
  std::vector<float> values;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] { values = store.weights(); });
  return to_numpy(values);
}

// Rows [begin, begin + count) of a split, read straight into the returned array.
py::array_t<float> read_range(OpenStore& open, bool test, int64_t begin, int64_t count) {
  check_split(open.store, test);
  const io::FeatureArray& array = open.features(test);
  SUBSET_CHECK_PARAM(begin >= 0 && count >= 0 && begin + count <= array.rows(), "rows",
                     "rows [" << begin << ", " << begin + count << ") out of range for " << array.rows() << " rows");
  py::array_t<float> out({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(array.cols())});
  float* data = out.mutable_data();
  run_read(count * array.cols() * static_cast<int64_t>(sizeof(float)), [&] { array.read_rows(begin, count, data); });
  return out;
}

// The given rows of a split, in the given order (repeats allowed): only those rows are read, each
// run of consecutive row numbers in one read.
py::array_t<float> read_rows(OpenStore& open, bool test, const IndexArray& rows) {
  check_split(open.store, test);
  const io::FeatureArray& array = open.features(test);
  const std::vector<int64_t> wanted = int_vector(rows, "rows");
  for (int64_t r : wanted)
    SUBSET_CHECK_PARAM(r >= 0 && r < array.rows(), "rows", "row " << r << " out of range for " << array.rows() << " rows");
  const int64_t cols = array.cols();
  py::array_t<float> out({static_cast<py::ssize_t>(wanted.size()), static_cast<py::ssize_t>(cols)});
  float* data = out.mutable_data();
  run_read(static_cast<int64_t>(wanted.size()) * cols * static_cast<int64_t>(sizeof(float)), [&] {
    std::vector<size_t> order(wanted.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return wanted[a] < wanted[b]; });
    std::vector<float> run;
    for (size_t i = 0; i < order.size();) {
      check_interrupted();
      // A run of consecutive (or repeated) row numbers, at most 4096 rows.
      size_t j = i + 1;
      while (j < order.size() && wanted[order[j]] - wanted[order[j - 1]] <= 1 &&
             wanted[order[j]] - wanted[order[i]] < 4096)
        ++j;
      const int64_t first = wanted[order[i]];
      const int64_t count = wanted[order[j - 1]] - first + 1;
      run.resize(static_cast<size_t>(count * cols));
      array.read_rows(first, count, run.data());
      for (size_t k = i; k < j; ++k)
        std::memcpy(data + order[k] * static_cast<size_t>(cols), run.data() + (wanted[order[k]] - first) * cols,
                    static_cast<size_t>(cols) * sizeof(float));
      i = j;
    }
  });
  return out;
}

// The output of an import or extract, with the energy of the work recorded in the store as the
// CLI records it (energy=False in Python: not recorded).
io::OutputOptions output_options(const std::string& path, bool force, int gzip_level, int64_t chunk_rows) {
  SUBSET_CHECK_PARAM(gzip_level >= 0 && gzip_level <= 9, "compression", "gzip level must be 0-9, got " << gzip_level);
  SUBSET_CHECK_PARAM(chunk_rows >= 0, "chunk-rows", "must be >= 0 (0: about 1 MiB per chunk), got " << chunk_rows);
  io::OutputOptions out{path, force, {}};
  out.write.chunk_rows = chunk_rows;
  out.write.gzip_level = gzip_level;
  return out;
}

// Runs an import/extract (`work` writes out.path) under run_released, measuring it when asked.
void write_store(io::OutputOptions out, const std::optional<py::dict>& accounting,
                 const std::function<void(const io::OutputOptions&)>& work) {
  std::optional<energy::MeterOptions> meter;
  if (accounting) meter = meter_options(*accounting);
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] {
    if (meter) {
      auto running = std::make_shared<energy::EnergyMeter>(*meter);
      running->start();
      out.write.energy_report = [running] { return energy::to_json(running->stop()).dump(); };
    }
    work(out);
  });
}

void import_fashion_mnist(const std::string& output, const std::string& dataset_dir, bool force, int gzip_level,
                          int64_t chunk_rows, const std::optional<py::dict>& accounting) {
  write_store(output_options(output, force, gzip_level, chunk_rows), accounting,
              [&](const io::OutputOptions& out) { io::import_fashion_mnist(dataset_dir, out); });
}

void import_npy(const std::string& output, const std::string& features, const std::optional<std::string>& labels,
                const std::optional<std::string>& test_features, const std::optional<std::string>& test_labels,
                const std::vector<int64_t>& image_shape, const std::vector<std::string>& class_names,
                const std::optional<std::string>& layout, const std::optional<std::string>& scale,
                const std::optional<double>& test_fraction, uint64_t seed, bool force, int gzip_level,
                int64_t chunk_rows, const std::optional<py::dict>& accounting) {
  io::NpyImport request;
  request.features = features;
  request.labels = labels;
  request.test_features = test_features;
  request.test_labels = test_labels;
  request.image_shape = image_shape;
  request.class_names = class_names;
  if (layout) {
    SUBSET_CHECK_PARAM(*layout == "nhwc" || *layout == "nchw", "layout", "expected 'nhwc' or 'nchw', got '" << *layout << "'");
    request.layout = *layout == "nhwc" ? io::ImageLayout::NHWC : io::ImageLayout::NCHW;
  }
  if (scale) request.scale = io::parse_scale(*scale);
  if (test_fraction) request.test_split = io::TestSplit{*test_fraction, seed};
  write_store(output_options(output, force, gzip_level, chunk_rows), accounting,
              [&](const io::OutputOptions& out) { io::import_npy(request, out); });
}

void import_csv(const std::string& output, const std::string& path, const std::optional<std::string>& label_column,
                const std::optional<std::string>& test_path, const std::string& delimiter,
                const std::optional<std::string>& scale, const std::optional<double>& test_fraction, uint64_t seed,
                bool force, int gzip_level, int64_t chunk_rows, const std::optional<py::dict>& accounting) {
  SUBSET_CHECK_PARAM(delimiter.size() == 1, "delimiter", "must be a single character, got '" << delimiter << "'");
  io::CsvImport request{path, label_column, test_path, delimiter[0], std::nullopt, std::nullopt};
  if (scale) request.scale = io::parse_scale(*scale);
  if (test_fraction) request.test_split = io::TestSplit{*test_fraction, seed};
  write_store(output_options(output, force, gzip_level, chunk_rows), accounting,
              [&](const io::OutputOptions& out) { io::import_csv(request, out); });
}

void extract(const std::string& store, const std::variant<std::string, io::SelectionFile>& selection,
             const std::string& output, bool force, const std::optional<py::dict>& accounting,
             const std::optional<std::string>& memory_limit) {
  const std::optional<double> limit =
      memory_limit ? std::optional<double>(parse_memory_size(*memory_limit, "memory_limit")) : std::nullopt;
  write_store(output_options(output, force, 0, 0), accounting, [&](const io::OutputOptions& out) {
    if (const auto* path = std::get_if<std::string>(&selection)) io::extract_selection(store, *path, out, limit);
    else io::extract_selection(store, std::get<io::SelectionFile>(selection), "selection (in memory)", out, limit);
  });
}

}  // namespace

void bind_store(py::module_& m) {
  py::class_<OpenStore>(m, "FeatureStore")
      .def_property_readonly("path", [](const OpenStore& s) { return s.store.path(); })
      .def_property_readonly("has_test", [](const OpenStore& s) { return s.store.info().has_test; })
      // What `subset info --json` prints for the store (io::describe_store).
      .def_property_readonly("info", [](const OpenStore& s) { return to_python(io::describe_store(s.store).json); })
      .def("labels", &labels, py::arg("test"))
      .def("weights", &weights)
      .def("read_range", &read_range, py::arg("test"), py::arg("begin"), py::arg("count"))
      .def("read_rows", &read_rows, py::arg("test"), py::arg("rows"));
  m.def("open_store", &open_store, py::arg("path"));
  m.def("import_fashion_mnist", &import_fashion_mnist, py::arg("output"), py::arg("dataset_dir"), py::arg("force"),
        py::arg("gzip_level"), py::arg("chunk_rows"), py::arg("accounting"));
  m.def("import_npy", &import_npy, py::arg("output"), py::arg("features"), py::arg("labels"), py::arg("test_features"),
        py::arg("test_labels"), py::arg("image_shape"), py::arg("class_names"), py::arg("layout"), py::arg("scale"),
        py::arg("test_fraction"), py::arg("seed"), py::arg("force"), py::arg("gzip_level"), py::arg("chunk_rows"),
        py::arg("accounting"));
  m.def("import_csv", &import_csv, py::arg("output"), py::arg("path"), py::arg("label_column"), py::arg("test_path"),
        py::arg("delimiter"), py::arg("scale"), py::arg("test_fraction"), py::arg("seed"), py::arg("force"),
        py::arg("gzip_level"), py::arg("chunk_rows"), py::arg("accounting"));
  m.def("extract", &extract, py::arg("store"), py::arg("selection"), py::arg("output"), py::arg("force"),
        py::arg("accounting"), py::arg("memory_limit"));
  m.attr("fashion_mnist_dir") = io::kFashionMnistDir;
}

}  // namespace subset::python
