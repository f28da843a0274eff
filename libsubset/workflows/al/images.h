#pragma once
// The images of `al query --images DIR` (docs/active-learning.md): for an image store
// (image_shape [C, H, W], C = 1 grey or 3 RGB), one PNG per proposed row, row<ROW>.png, and
// contact.png, every tile in the CSV's order, left to right then top to bottom, ceil(sqrt(B))
// tiles a line with a one-pixel gap. Each image is scaled from its own min..max to 0..255.
// DIR is built under a temporary name and renamed into place by commit(); an existing DIR is
// refused unless `force` (then replaced whole).
#include <cstdint>
#include <string>
#include <vector>

#include "libsubset/io/store.h"

namespace subset::workflows::al {

class ImageWriter {
 public:
  // Throws Error when the store has no image shape, C is not 1 or 3, or DIR exists without force.
  ImageWriter(std::string dir, io::FeatureStore pool, bool force);
  ~ImageWriter();  // removes the temporary directory unless committed
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;
  // Writes the PNGs of `rows` (pool rows) into the temporary directory; returns the files written.
  int64_t write(const std::vector<int64_t>& rows);
  void commit();

 private:
  std::string dir_, temp_;
  io::FeatureStore pool_;
  bool force_ = false, done_ = false;
};

}  // namespace subset::workflows::al
