// Tests for libsubset/io/store_writer.h. What the writer produced is read back with the HDF5 C API
// directly, not through libsubset's reader.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "support/files.h"
#include "support/temp_dir.h"
#include "support/error_of.h"

using subset::io::Split;
using subset::io::StoreWriter;
using subset::io::WriteOptions;
using namespace subset::test;

using subset::test::error_of;

namespace {

// Minimal independent HDF5 readers.
struct H5 {
  hid_t file;
  explicit H5(const std::string& path) : file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    REQUIRE(file >= 0);
  }
  ~H5() { H5Fclose(file); }
  std::vector<hsize_t> shape(const std::string& name) const {
    hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    hid_t space = H5Dget_space(ds);
    std::vector<hsize_t> dims(static_cast<size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    H5Sclose(space);
    H5Dclose(ds);
    return dims;
  }
  template <typename T>
  std::vector<T> read(const std::string& name, hid_t mem_type) const {
    hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    hid_t space = H5Dget_space(ds);
    std::vector<T> out(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    H5Sclose(space);
    H5Dclose(ds);
    return out;
  }
  // True when the dataset's stored type is exactly `type` (e.g. H5T_IEEE_F32LE).
  bool stored_as(const std::string& name, hid_t type) const {
    hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    hid_t t = H5Dget_type(ds);
    const bool same = H5Tequal(t, type) > 0;
    H5Tclose(t);
    H5Dclose(ds);
    return same;
  }
  hsize_t chunk_rows(const std::string& name, int* nfilters) const {
    hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[2] = {0, 0};
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) H5Pget_chunk(dcpl, 2, chunk);
    *nfilters = H5Pget_nfilters(dcpl);
    H5Pclose(dcpl);
    H5Dclose(ds);
    return chunk[0];
  }
  // Every element of a string attribute (variable-length strings, as the writer stores them).
  std::vector<std::string> strings(const std::string& object, const std::string& attr_name) const {
    hid_t attr = H5Aopen_by_name(file, object.c_str(), attr_name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(attr >= 0);
    hid_t type = H5Aget_type(attr);
    REQUIRE(H5Tget_class(type) == H5T_STRING);
    REQUIRE(H5Tis_variable_str(type) > 0);
    CHECK(H5Tget_cset(type) == H5T_CSET_UTF8);  // h5py reads these as str
    hid_t space = H5Aget_space(attr);
    std::vector<char*> ptrs(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    REQUIRE(H5Aread(attr, mem, ptrs.data()) >= 0);
    std::vector<std::string> out(ptrs.begin(), ptrs.end());
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
    H5Tclose(mem);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
    return out;
  }
  std::vector<int64_t> ints(const std::string& object, const std::string& attr_name) const {
    hid_t attr = H5Aopen_by_name(file, object.c_str(), attr_name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(attr >= 0);
    hid_t space = H5Aget_space(attr);
    std::vector<int64_t> out(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Aread(attr, H5T_NATIVE_INT64, out.data()) >= 0);
    H5Sclose(space);
    H5Aclose(attr);
    return out;
  }
  bool has(const std::string& name) const { return H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0; }
};

std::vector<float> ramp(size_t n, float scale = 0.25f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) * scale - 3.0f;
  return v;
}

}  // namespace

TEST_CASE("default_chunk_rows aims at about 1 MiB per chunk") {
  CHECK(subset::io::default_chunk_rows(1000000, 256) == 1024);  // 1 MiB / (256 * 4 bytes)
  CHECK(subset::io::default_chunk_rows(1000000, 784) == 334);   // floor(1048576 / 3136)
  CHECK(subset::io::default_chunk_rows(100, 256) == 100);       // never more than the rows
  CHECK(subset::io::default_chunk_rows(10, 10000000) == 1);     // at least one row
  CHECK(subset::io::default_chunk_rows(0, 0) == 1);
}

TEST_CASE("a written store reads back exactly with plain HDF5") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  const auto train = ramp(7 * 4);
  const auto test = ramp(3 * 4, -1.5f);
  {
    StoreWriter w(path, false, WriteOptions{3, 0, {}});
    CHECK(w.path() == path);
    w.begin_features(Split::Train, 7, 4);
    w.write_rows(Split::Train, 2, train.data());
    w.write_rows(Split::Train, 0, nullptr);
    w.write_rows(Split::Train, 5, train.data() + 8);
    w.write_labels(Split::Train, {0, 1, 2, 3, 0, 1, 2});
    w.begin_features(Split::Test, 3, 4);
    w.write_rows(Split::Test, 3, test.data());
    w.write_labels(Split::Test, {3, 3, 0});
    w.set_image_shape({1, 2, 2});
    w.set_class_names({"zero", "one", "two", "three"});
    w.set_source("unit test");
    w.set_created_by("test_store_writer");
    w.set_root_attribute("manifest", "{\"k\": 1}");
    CHECK_FALSE(path_exists(path));  // nothing at the output path before commit
    w.commit();
  }
  REQUIRE(path_exists(path));
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});

  H5 h(path);
  CHECK(h.shape("/features") == std::vector<hsize_t>{7, 4});
  CHECK(h.stored_as("/features", H5T_IEEE_F32LE));
  CHECK(h.read<float>("/features", H5T_NATIVE_FLOAT) == train);
  CHECK(h.stored_as("/labels", H5T_STD_I64LE));
  CHECK(h.read<int64_t>("/labels", H5T_NATIVE_INT64) == std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2});
  CHECK(h.shape("/test/features") == std::vector<hsize_t>{3, 4});
  CHECK(h.read<float>("/test/features", H5T_NATIVE_FLOAT) == test);
  CHECK(h.read<int64_t>("/test/labels", H5T_NATIVE_INT64) == std::vector<int64_t>{3, 3, 0});
  int nfilters = -1;
  CHECK(h.chunk_rows("/features", &nfilters) == 3);
  CHECK(nfilters == 0);
  CHECK(h.ints("/features", "image_shape") == std::vector<int64_t>{1, 2, 2});
  CHECK(h.strings("/labels", "class_names") == std::vector<std::string>{"zero", "one", "two", "three"});
  CHECK(h.strings("/", "format") == std::vector<std::string>{"subset-store"});
  CHECK(h.ints("/", "format_version") == std::vector<int64_t>{1});
  CHECK(h.strings("/", "source") == std::vector<std::string>{"unit test"});
  CHECK(h.strings("/", "created_by") == std::vector<std::string>{"test_store_writer"});
  CHECK(h.strings("/", "manifest") == std::vector<std::string>{"{\"k\": 1}"});

  // And libsubset's own reader agrees.
  const auto store = subset::io::FeatureStore::open(path);
  CHECK(store.info().format_declared);
  CHECK(store.info().class_counts == std::map<int64_t, int64_t>{{0, 2}, {1, 2}, {2, 2}, {3, 1}});
}

TEST_CASE("compression and default chunking") {
  TempDir dir;
  const std::string path = dir.file("gz.h5");
  const auto values = ramp(50 * 6);
  {
    StoreWriter w(path, false, WriteOptions{0, 5, {}});
    w.begin_features(Split::Train, 50, 6);
    w.write_rows(Split::Train, 50, values.data());
    w.commit();
  }
  H5 h(path);
  int nfilters = -1;
  CHECK(h.chunk_rows("/features", &nfilters) == 50);  // default: ~1 MiB, capped at the row count
  CHECK(nfilters == 2);                                // shuffle + deflate
  CHECK(h.read<float>("/features", H5T_NATIVE_FLOAT) == values);
  CHECK_FALSE(h.has("/labels"));
  CHECK_FALSE(h.has("/test"));
  CHECK(subset::io::FeatureStore::open(path).info().features.compression == "shuffle+gzip(5)");
}

TEST_CASE("NaN and Inf rows are rejected, naming the row") {
  TempDir dir;
  auto values = ramp(6 * 3);
  {
    StoreWriter w(dir.file("nan.h5"), false);
    w.begin_features(Split::Train, 6, 3);
    w.write_rows(Split::Train, 2, values.data());
    auto block = std::vector<float>(values.begin() + 6, values.end());
    block[1 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();  // overall row 3, column 2
    const subset::Error e = error_of([&] { w.write_rows(Split::Train, 4, block.data()); });
    CHECK(e.message() == "NaN or Inf in features at row 3, column 2");
    CHECK(e.where() == dir.file("nan.h5"));
  }
  {
    StoreWriter w(dir.file("inf.h5"), false);
    w.begin_features(Split::Train, 6, 3);
    w.write_rows(Split::Train, 6, values.data());
    w.begin_features(Split::Test, 2, 3);
    std::vector<float> t = {1, 2, 3, 4, -std::numeric_limits<float>::infinity(), 6};
    w.set_origin(Split::Test, "input.npy");
    const subset::Error e = error_of([&] { w.write_rows(Split::Test, 2, t.data()); });
    CHECK(e.message() == "NaN or Inf in test features at row 1, column 1");
    CHECK(e.where() == "input.npy");  // errors about the values point at where they came from
  }
  CHECK(list_dir(dir.path()).empty());
}

TEST_CASE("an uncommitted writer leaves no file and no temporary file") {
  TempDir dir;
  const auto values = ramp(4 * 2);
  {
    StoreWriter w(dir.file("out.h5"), false);
    CHECK(list_dir(dir.path()).size() == 1);  // the temporary file
    CHECK(list_dir(dir.path())[0].rfind(".out.h5.partial-", 0) == 0);
    w.begin_features(Split::Train, 4, 2);
    w.write_rows(Split::Train, 4, values.data());
    w.write_labels(Split::Train, {0, 0, 1, 1});
  }
  CHECK(list_dir(dir.path()).empty());
  {
    StoreWriter w(dir.file("out.h5"), false);
  }
  CHECK(list_dir(dir.path()).empty());
}

TEST_CASE("an existing output is refused without force and untouched, and replaced with force") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  write_bytes(path, "precious bytes\x00\x01\x02");
  const std::string before = read_bytes(path);
  const subset::Error e = error_of([&] { StoreWriter w(path, false); });
  CHECK(e.message().find("output already exists") != std::string::npos);
  CHECK(e.where() == path);
  CHECK(read_bytes(path) == before);
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});

  const auto values = ramp(2 * 2);
  {
    StoreWriter w(path, true);
    w.begin_features(Split::Train, 2, 2);
    w.write_rows(Split::Train, 2, values.data());
    CHECK(read_bytes(path) == before);  // still the old file until commit
    w.commit();
  }
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});
  H5 h(path);
  CHECK(h.read<float>("/features", H5T_NATIVE_FLOAT) == values);

  // A forced writer that fails leaves the old output as it was.
  const std::string committed = read_bytes(path);
  {
    StoreWriter w(path, true);
    w.begin_features(Split::Train, 3, 2);
    w.write_rows(Split::Train, 1, values.data());
    CHECK_THROWS_AS(w.commit(), subset::Error);
  }
  CHECK(read_bytes(path) == committed);
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});
}

TEST_CASE("commit with missing rows or inconsistent metadata fails and writes nothing") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  const auto values = ramp(5 * 4);
  auto commit_error = [&](auto&& setup) {
    subset::Error err("none");
    {
      StoreWriter w(path, false);
      setup(w);
      err = error_of([&] { w.commit(); });
      CHECK(err.where() == path);
    }
    CHECK(list_dir(dir.path()).empty());
    return err.message();
  };
  CHECK(commit_error([&](StoreWriter& w) {
          w.begin_features(Split::Train, 5, 4);
          w.write_rows(Split::Train, 3, values.data());
        }) == "features: 3 of 5 rows were written");
  CHECK(commit_error([&](StoreWriter& w) {
          w.begin_features(Split::Train, 5, 4);
          w.write_rows(Split::Train, 5, values.data());
          w.begin_features(Split::Test, 2, 4);
        }) == "test features: 0 of 2 rows were written");
  CHECK(commit_error([&](StoreWriter&) {}) == "no features were written");
  CHECK(commit_error([&](StoreWriter& w) {
          w.begin_features(Split::Train, 5, 4);
          w.write_rows(Split::Train, 5, values.data());
          w.set_image_shape({1, 2, 3});
        }) == "image shape must be [C, H, W] with C*H*W = 4");
  CHECK(commit_error([&](StoreWriter& w) {
          w.begin_features(Split::Train, 5, 4);
          w.write_rows(Split::Train, 5, values.data());
          w.set_image_shape({2, 2});
        }) == "image shape must be [C, H, W] with C*H*W = 4");
  CHECK(commit_error([&](StoreWriter& w) {
          w.begin_features(Split::Train, 5, 4);
          w.write_rows(Split::Train, 5, values.data());
          w.write_labels(Split::Train, {0, 1, 2, 1, 0});
          w.set_class_names({"a", "b"});
        }) == "label 2 is out of range for 2 class names");
}

TEST_CASE("misuse of the writer is reported") {
  TempDir dir;
  const auto values = ramp(5 * 4);
  StoreWriter w(dir.file("out.h5"), false);
  CHECK_THROWS_WITH_AS(w.write_rows(Split::Train, 1, values.data()),
                       doctest::Contains("features written before being declared"), subset::Error);
  CHECK_THROWS_WITH_AS(w.write_labels(Split::Train, {0}), doctest::Contains("labels given without features"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(w.begin_features(Split::Test, 2, 4),
                       doctest::Contains("test features declared before the training features"), subset::Error);
  CHECK_THROWS_WITH_AS(w.begin_features(Split::Train, 0, 4), doctest::Contains("features must have at least one row"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(w.begin_features(Split::Train, 4, 0),
                       doctest::Contains("features must have at least one column"), subset::Error);
  w.begin_features(Split::Train, 5, 4);
  CHECK_THROWS_WITH_AS(w.begin_features(Split::Train, 5, 4), doctest::Contains("features declared twice"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(w.begin_features(Split::Test, 2, 3),
                       doctest::Contains("test features have 3 columns but the training features have 4"),
                       subset::Error);
  w.write_rows(Split::Train, 4, values.data());
  CHECK_THROWS_WITH_AS(w.write_rows(Split::Train, 2, values.data()),
                       doctest::Contains("too many rows for features: 6 > 5"), subset::Error);
  CHECK_THROWS_WITH_AS(w.write_labels(Split::Train, {0, 1, 2}),
                       doctest::Contains("labels have 3 entries but the features have 5 rows"), subset::Error);
  w.set_origin(Split::Train, "labels.npy");
  const subset::Error neg = error_of([&] { w.write_labels(Split::Train, {0, 1, -2, 1, 0}); });
  CHECK(neg.message() == "negative label -2 at row 2 of labels");
  CHECK(neg.where() == "labels.npy");

  CHECK_THROWS_WITH_AS(StoreWriter(dir.file("a.h5"), false, WriteOptions{0, 10, {}}),
                       doctest::Contains("gzip level must be in 0..9, got 10"), subset::Error);
  CHECK_THROWS_WITH_AS(StoreWriter(dir.file("b.h5"), false, WriteOptions{-1, 0, {}}),
                       doctest::Contains("chunk rows must be >= 0, got -1"), subset::Error);
  CHECK_THROWS_WITH_AS(StoreWriter(dir.file("missing/c.h5"), false),
                       doctest::Contains("output directory does not exist"), subset::Error);
}

TEST_CASE("weights: zero is allowed (an empty cluster), negative, NaN and a wrong length are not") {
  subset::test::TempDir dir;
  const float rows[4] = {1, 2, 3, 4};
  {
    subset::io::StoreWriter w(dir.file("ok.h5"), false);
    w.begin_features(subset::io::Split::Train, 2, 2);
    w.write_rows(subset::io::Split::Train, 2, rows);
    w.write_weights({0.0f, 3.0f});
    w.commit();
    CHECK(subset::io::FeatureStore::open(dir.file("ok.h5")).weights() == std::vector<float>{0.0f, 3.0f});
  }
  subset::io::StoreWriter w(dir.file("bad.h5"), false);
  w.begin_features(subset::io::Split::Train, 2, 2);
  CHECK_THROWS_WITH_AS(w.write_weights({1.0f, -1.0f}), doctest::Contains("weight -1 at row 1"), subset::Error);
  CHECK_THROWS_WITH_AS(w.write_weights({std::nanf(""), 1.0f}), doctest::Contains("at row 0"), subset::Error);
  CHECK_THROWS_WITH_AS(w.write_weights({1.0f}), doctest::Contains("weights have 1 entries"), subset::Error);
}

TEST_CASE("labels at or above max(training rows, class names) are refused at commit, naming row and value") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  const auto values = ramp(5 * 4);
  auto commit_error = [&](const std::vector<int64_t>& train, const std::vector<int64_t>& test,
                          const std::vector<std::string>& names) {
    subset::Error err("none");
    {
      StoreWriter w(path, false);
      w.set_origin(Split::Train, "labels.npy");
      w.begin_features(Split::Train, 5, 4);
      w.write_rows(Split::Train, 5, values.data());
      w.write_labels(Split::Train, train);
      if (!test.empty()) {
        w.begin_features(Split::Test, 2, 4);
        w.write_rows(Split::Test, 2, values.data());
        w.write_labels(Split::Test, test);
      }
      w.set_class_names(names);
      err = error_of([&] { w.commit(); });
    }
    CHECK(list_dir(dir.path()).empty());
    return err;
  };
  const subset::Error huge = commit_error({0, 1, 1000000000000, 1, 0}, {}, {});
  CHECK(huge.message() ==
        "label 1000000000000 at row 2 of /labels is not a class id: labels must be below 5 (the number of training "
        "rows or of class names, whichever is larger)");
  CHECK(huge.where() == "labels.npy");
  CHECK(commit_error({0, 1, 2, 1, 5}, {}, {}).message().find("label 5 at row 4 of /labels") == 0);
  // Test labels are bounded by the training rows as well.
  CHECK(commit_error({0, 1, 2, 1, 0}, {0, 7}, {}).message().find("label 7 at row 1 of /test/labels") == 0);
  // With more class names than rows, the names are the bound.
  {
    StoreWriter w(path, false);
    w.begin_features(Split::Train, 5, 4);
    w.write_rows(Split::Train, 5, values.data());
    w.write_labels(Split::Train, {0, 1, 2, 1, 6});
    w.set_class_names({"a", "b", "c", "d", "e", "f", "g"});
    w.commit();
  }
  CHECK(subset::io::FeatureStore::open(path).info().num_classes() == 7);
}

TEST_CASE("the value range of both splits is recorded as float64 root attributes and read back") {
  TempDir dir;
  const std::string path = dir.file("range.h5");
  // Train holds the largest value in its second block, test the smallest.
  const std::vector<float> a = {0.5f, -1.25f, 3.0f, 2.0f}, b = {7.75f, 0.0f}, t = {-9.5f, 1.0f};
  {
    StoreWriter w(path, false);
    w.begin_features(Split::Train, 3, 2);
    w.write_rows(Split::Train, 2, a.data());
    w.write_rows(Split::Train, 1, b.data());
    w.begin_features(Split::Test, 1, 2);
    w.write_rows(Split::Test, 1, t.data());
    w.commit();
  }
  auto read_double = [&](const char* name) {
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
    REQUIRE(attr >= 0);
    hid_t type = H5Aget_type(attr);
    CHECK(H5Tequal(type, H5T_IEEE_F64LE) > 0);
    double v = 0;
    REQUIRE(H5Aread(attr, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Tclose(type);
    H5Aclose(attr);
    H5Fclose(file);
    return v;
  };
  CHECK(read_double("value_min") == -9.5);
  CHECK(read_double("value_max") == 7.75);
  const auto info = subset::io::FeatureStore::open(path).info();
  REQUIRE(info.value_min);
  REQUIRE(info.value_max);
  CHECK(*info.value_min == -9.5);
  CHECK(*info.value_max == 7.75);
  CHECK(info.to_json()["value_min"] == -9.5);
  CHECK(info.to_json()["value_max"] == 7.75);

  // A store written before the range was recorded (attributes removed) opens without one.
  {
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    REQUIRE(H5Adelete(file, "value_max") >= 0);
    H5Fclose(file);
  }
  const auto old = subset::io::FeatureStore::open(path).info();
  CHECK_FALSE(old.value_min);
  CHECK_FALSE(old.value_max);
  CHECK(old.to_json()["value_min"].is_null());
}
