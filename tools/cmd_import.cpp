// `subset import SOURCE -o STORE`: Fashion-MNIST (the embedded default), .npy or .csv to a store.
#include <iostream>
#include <optional>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/io/importers.h"
#include "tools/cli.h"
#include "tools/store_report.h"

namespace subset::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

// "none" -> 0, "gzip" -> 4, "gzip:7" -> 7.
int parse_compression(const std::string& text) {
  if (text == "none") return 0;
  if (text == "gzip") return 4;
  if (text.rfind("gzip:", 0) == 0 && text.size() == 6 && text[5] >= '1' && text[5] <= '9') return text[5] - '0';
  SUBSET_FAIL("--compression", "expected none, gzip or gzip:LEVEL (1-9), got '" << text << "'");
}

std::vector<int64_t> parse_image_shape(const std::string& text) {
  std::vector<int64_t> out;
  for (const auto& part : split_list(text)) {
    try {
      size_t used = 0;
      const long long v = std::stoll(part, &used);
      SUBSET_CHECK(used == part.size() && v > 0, "--image-shape", "expected C,H,W with positive sizes, got '" << text << "'");
      out.push_back(v);
    } catch (const Error&) {
      throw;
    } catch (...) {
      SUBSET_FAIL("--image-shape", "expected C,H,W with positive sizes, got '" << text << "'");
    }
  }
  SUBSET_CHECK(out.size() == 3, "--image-shape", "expected three sizes C,H,W, got '" << text << "'");
  return out;
}

}  // namespace

Command add_import_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    std::string source;
    std::string output;
    bool force = false;
    bool json = false;
    std::string dataset_dir = io::kFashionMnistDir;
    std::string labels, test_features, test_labels, label_column, image_shape, class_names;
    std::string delimiter = ",";
    std::string compression = "none";
    int64_t chunk_rows = 0;
    std::string layout, scale;
    double test_fraction = 0;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("import", "Convert data into an HDF5 feature store");
  app->footer(
      "SOURCE is `fashion-mnist` (Debian's dataset-fashion-mnist: 60000 train + 10000 test images),\n"
      "a .npy array [N, ...] (float32, float64, integer or bool; values kept as they are unless --scale),\n"
      "or a .csv file with a header row (every column is a feature except --label-column). A 4-D array\n"
      "whose last axis is 1 or 3 needs --layout nhwc|nchw; the store keeps images as C,H,W.");
  app->add_option("source", o->source, "fashion-mnist, FILE.npy or FILE.csv")->required();
  app->add_option("-o,--output", o->output, "Store to write (.h5)")->required();
  app->add_flag("--force", o->force, "Overwrite an existing output");
  add_json_flag(*app, o->json);
  app->add_option("--dataset-dir", o->dataset_dir, "Where the Fashion-MNIST IDX files are")->capture_default_str();
  app->add_option("--labels", o->labels, ".npy labels [N] (non-negative integers)");
  app->add_option("--test-features", o->test_features, "Held-out split: .npy features, or a .csv like SOURCE");
  app->add_option("--test-labels", o->test_labels, ".npy labels of the held-out split");
  app->add_option("--label-column", o->label_column, "CSV column holding the labels (integers or class names)");
  app->add_option("--delimiter", o->delimiter, "CSV field separator")->capture_default_str();
  app->add_option("--image-shape", o->image_shape, "C,H,W of each row (inferred for [N,H,W] and [N,C,H,W] .npy)");
  app->add_option("--class-names", o->class_names, "Comma-separated class names, label 0 first (.npy)");
  app->add_option("--layout", o->layout, "Axis order of a 4-D .npy: nhwc (channels last, transposed) or nchw")
      ->check(CLI::IsMember({"nhwc", "nchw"}));
  app->add_option("--scale", o->scale, "Multiply every feature value by S, a number or fraction (e.g. 1/255)");
  app->add_option("--test-fraction", o->test_fraction,
                  "Hold out this fraction of the rows as a stratified test split (needs labels)");
  app->add_option("--seed", o->seed, "Seed of the --test-fraction draw")->check(seed_value())->capture_default_str();
  app->add_option("--compression", o->compression, "Feature compression: none, gzip or gzip:LEVEL")
      ->capture_default_str();
  app->add_option("--chunk-rows", o->chunk_rows, "Rows per HDF5 chunk (0: about 1 MiB per chunk)")
      ->check(non_negative_integer())
      ->capture_default_str();

  return {app, [o, app, &global]() {
            io::OutputOptions out{o->output, o->force, {o->chunk_rows, parse_compression(o->compression), {}}};
            out.write.energy_report = start_energy_recording(global);
            auto given = [&](const char* name) { return app->count(name) > 0; };
            auto reject = [&](const char* name, const char* kind) {
              SUBSET_CHECK(!given(name), name, "does not apply to " << kind << " input");
            };
            auto opt = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
            SUBSET_CHECK(!given("--seed") || given("--test-fraction"), "--seed",
                         "applies to the --test-fraction draw only");
            std::optional<io::Scale> scale;
            if (given("--scale")) scale = io::parse_scale(o->scale);
            std::optional<io::TestSplit> split;
            if (given("--test-fraction")) split = io::TestSplit{o->test_fraction, o->seed};
            io::ImportReport report;
            if (o->source == "fashion-mnist") {
              SUBSET_CHECK(!given("--scale"), "--scale", "fashion-mnist is imported as pixel / 255, in [0, 1], already");
              SUBSET_CHECK(!given("--test-fraction"), "--test-fraction", "fashion-mnist has its own test split");
              for (const char* n : {"--labels", "--test-features", "--test-labels", "--label-column", "--delimiter",
                                    "--image-shape", "--class-names", "--layout"})
                reject(n, "fashion-mnist");
              report = io::import_fashion_mnist(o->dataset_dir, out);
            } else if (ends_with(o->source, ".npy")) {
              for (const char* n : {"--dataset-dir", "--label-column", "--delimiter"}) reject(n, ".npy");
              io::NpyImport req;
              req.features = o->source;
              req.labels = opt(o->labels);
              req.test_features = opt(o->test_features);
              req.test_labels = opt(o->test_labels);
              if (given("--image-shape")) req.image_shape = parse_image_shape(o->image_shape);
              if (given("--class-names")) req.class_names = split_list(o->class_names);
              if (given("--layout")) req.layout = o->layout == "nhwc" ? io::ImageLayout::NHWC : io::ImageLayout::NCHW;
              req.scale = scale;
              req.test_split = split;
              report = io::import_npy(req, out);
            } else if (ends_with(o->source, ".csv")) {
              for (const char* n : {"--dataset-dir", "--labels", "--test-labels", "--image-shape", "--class-names",
                                    "--layout"})
                reject(n, ".csv");
              SUBSET_CHECK(o->delimiter.size() == 1, "--delimiter", "must be a single character");
              io::CsvImport req{o->source, opt(o->label_column), opt(o->test_features), o->delimiter[0], scale, split};
              report = io::import_csv(req, out);
            } else {
              SUBSET_FAIL(o->source, "unknown source: expected fashion-mnist, a .npy file or a .csv file");
            }
            if (o->json) {
              std::cout << report.to_json().dump(2) << "\n";
            } else {
              print_store_report(report.info, std::cout);
              for (const auto& note : report.notes) std::cout << "  note        " << note << "\n";
            }
            return 0;
          }};
}

}  // namespace subset::cli
