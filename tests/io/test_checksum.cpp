// Tests for the feature checksum (FeatureStore::features_checksum, the "checksum" attribute that
// StoreWriter writes): it is zlib's CRC-32 of the rows' float32 bytes, computed here in the test;
// a store written without libsubset (HDF5 C API, no attribute) gets the same value by streaming.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <zlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"

using subset::io::FeatureStore;
using subset::io::format_checksum;
using subset::io::Split;
using subset::io::StoreWriter;
using subset::io::WriteOptions;
using namespace subset::test;

namespace {

std::string crc_of(const std::vector<float>& values) {
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(values.data()), static_cast<uInt>(values.size() * sizeof(float)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "crc32:%08lx", static_cast<unsigned long>(crc));
  return buf;
}

// The "checksum" string attribute of a dataset, read with the HDF5 C API; "" when absent.
std::string stored_checksum(const std::string& path, const std::string& dataset) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  std::string out;
  if (H5Aexists_by_name(f, dataset.c_str(), "checksum", H5P_DEFAULT) > 0) {
    hid_t a = H5Aopen_by_name(f, dataset.c_str(), "checksum", H5P_DEFAULT, H5P_DEFAULT);
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    char* p = nullptr;
    REQUIRE(H5Aread(a, mem, &p) >= 0);
    out = p;
    H5free_memory(p);
    H5Tclose(mem);
    H5Aclose(a);
  }
  H5Fclose(f);
  return out;
}

std::vector<float> values(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (static_cast<float>(i) - 17.0f) * scale;
  return v;
}

}  // namespace

TEST_CASE("checksum: format_checksum writes eight lower-case hex digits") {
  CHECK(format_checksum(0xCBF43926UL) == "crc32:cbf43926");  // CRC-32 of "123456789"
  CHECK(format_checksum(0) == "crc32:00000000");
  CHECK(format_checksum(0x1UL) == "crc32:00000001");
  const unsigned char check[] = "123456789";
  CHECK(format_checksum(crc32(0L, check, 9)) == "crc32:cbf43926");
}

TEST_CASE("checksum: StoreWriter stores zlib's CRC-32 of the row bytes, per split") {
  TempDir dir;
  const std::string path = dir.file("s.h5");
  const auto train = values(11 * 5, 0.3f);
  const auto test = values(3 * 5, -1.7f);
  {
    StoreWriter w(path, false, WriteOptions{4, 0, {}});
    w.begin_features(Split::Train, 11, 5);
    w.write_rows(Split::Train, 2, train.data());             // in uneven pieces
    w.write_rows(Split::Train, 6, train.data() + 2 * 5);
    w.write_rows(Split::Train, 3, train.data() + 8 * 5);
    w.begin_features(Split::Test, 3, 5);
    w.write_rows(Split::Test, 3, test.data());
    w.commit();
  }
  CHECK(stored_checksum(path, "/features") == crc_of(train));
  CHECK(stored_checksum(path, "/test/features") == crc_of(test));
  const FeatureStore s = FeatureStore::open(path);
  CHECK(s.info().features.checksum == crc_of(train));
  CHECK(s.features_checksum() == crc_of(train));
  CHECK(s.features_checksum(Split::Test) == crc_of(test));
  CHECK(s.info().to_json()["checksum"] == crc_of(train));
}

TEST_CASE("checksum: a store written with the HDF5 C API, without the attribute, gets the same value by streaming") {
  TempDir dir;
  for (unsigned gzip : {0u, 4u}) {
    StoreSpec spec;
    spec.dims = {37, 4};
    spec.chunk_rows = gzip ? 5 : 0;
    spec.gzip = gzip;
    spec.labels.reset();
    spec.test_dims = std::vector<hsize_t>{6, 4};
    const std::string path = dir.file("h5-" + std::to_string(gzip) + ".h5");
    write_store(path, spec);
    CHECK(stored_checksum(path, "/features").empty());

    std::vector<float> train, test;
    for (double v : feature_values(spec.dims)) train.push_back(static_cast<float>(v));
    for (double v : feature_values(*spec.test_dims)) test.push_back(static_cast<float>(v));
    const FeatureStore s = FeatureStore::open(path);
    CHECK(s.info().features.checksum.empty());
    CHECK(s.info().to_json()["checksum"].is_null());
    CHECK(s.features_checksum() == crc_of(train));
    CHECK(s.features_checksum(Split::Test) == crc_of(test));

    // The same rows written by libsubset carry the same checksum.
    const std::string ours = dir.file("ours-" + std::to_string(gzip) + ".h5");
    StoreWriter w(ours, false, WriteOptions{0, static_cast<int>(gzip), {}});
    w.begin_features(Split::Train, 37, 4);
    w.write_rows(Split::Train, 37, train.data());
    w.commit();
    CHECK(FeatureStore::open(ours).features_checksum() == s.features_checksum());
  }
}

TEST_CASE("checksum: one changed bit changes it") {
  TempDir dir;
  auto v = values(20 * 3, 0.5f);
  auto write = [&](const std::string& name) {
    StoreWriter w(dir.file(name), false);
    w.begin_features(Split::Train, 20, 3);
    w.write_rows(Split::Train, 20, v.data());
    w.commit();
    return FeatureStore::open(dir.file(name)).features_checksum();
  };
  const std::string a = write("a.h5");
  v[33] = -v[33];
  CHECK(write("b.h5") != a);
}
