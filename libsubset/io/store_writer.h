#pragma once
// Writing a feature store (format v1, see store.h). The file is built under a temporary name and
// only renamed into place by commit(), after every declared array has been fully written and
// validated; a writer destroyed without commit() leaves nothing behind.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libsubset/io/store.h"

namespace subset::io {

struct WriteOptions {
  // Rows per chunk; 0 picks about 1 MiB per chunk, which row-block reads map onto whole chunks.
  int64_t chunk_rows = 0;
  // 0 stores features uncompressed (fastest to read back); 1-9 applies byte-shuffle + gzip.
  int gzip_level = 0;
  // When set, called just before the file is committed; its text (the energy report of the work
  // that produced the store, as JSON) is stored in the root attribute "energy". Called last so the
  // report covers everything but the final flush.
  std::function<std::string()> energy_report;
};

// Chunk height used for `cols` columns when WriteOptions::chunk_rows is 0.
int64_t default_chunk_rows(int64_t rows, int64_t cols);

class StoreWriter {
 public:
  // Validates the output path at once (exists without force, directory missing or not writable).
  StoreWriter(const std::string& path, bool force, WriteOptions options = {});
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Declares the features of a split; rows are then written in order with write_rows.
  void begin_features(Split split, int64_t rows, int64_t cols);
  // Appends `count` rows (row-major). Throws Error naming the split's row if a value is NaN/Inf.
  void write_rows(Split split, int64_t count, const float* data);
  // Names the input the split's values and labels come from, so errors about them point there
  // rather than at the output file.
  void set_origin(Split split, const std::string& origin);
  // Labels for a split whose features were declared: length must match, values must be >= 0 (and
  // below the number of class names, when names are set).
  void write_labels(Split split, const std::vector<int64_t>& labels);
  // Optional per-row weights of the training split (how many points each row stands for), >= 0
  // (a k-means centroid whose cluster ended empty stands for no point).
  void write_weights(const std::vector<float>& weights);
  // Another int64 [N] dataset of the training split (e.g. /pool_rows of `subset al export`): one
  // value per row, written at commit. Readers that do not know it ignore it.
  void write_row_values(const std::string& dataset, const std::vector<int64_t>& values);
  void set_image_shape(const std::vector<int64_t>& chw);
  void set_class_names(const std::vector<std::string>& names);
  void set_source(const std::string& source);
  void set_created_by(const std::string& created_by);
  // Any extra root attribute (e.g. a JSON manifest).
  void set_root_attribute(const std::string& name, const std::string& value);

  // Checks completeness, writes the attributes, closes the file and renames it into place. The root
  // attributes value_min/value_max record the smallest and largest feature value written (both
  // splits), tracked as rows are written.
  void commit();
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace subset::io
