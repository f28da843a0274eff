#include "libsubset/workflows/al/images.h"

#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "libsubset/core/error.h"

namespace subset::workflows::al {
namespace {

namespace fs = std::filesystem;

// Writes a 8-bit grey (channels 1) or RGB (3) image, rows of width * channels bytes.
void write_png(const std::string& path, const std::vector<unsigned char>& pixels, int64_t width, int64_t height,
               int64_t channels) {
  FILE* f = std::fopen(path.c_str(), "wb");
  SUBSET_CHECK(f, path, "cannot create the image");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  bool ok = png && info;
  // libpng reports errors by longjmp; nothing with a destructor lives between here and the calls.
  if (ok && setjmp(png_jmpbuf(png)) == 0) {
    png_init_io(png, f);
    png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int64_t y = 0; y < height; ++y)
      png_write_row(png, const_cast<png_bytep>(pixels.data() + y * width * channels));
    png_write_end(png, nullptr);
  } else {
    ok = false;
  }
  png_destroy_write_struct(&png, &info);
  ok = std::fclose(f) == 0 && ok;
  SUBSET_CHECK(ok, path, "cannot write the image");
}

// One row's [C, H, W] floats as interleaved 8-bit pixels, scaled from its min..max.
std::vector<unsigned char> to_pixels(const float* x, int64_t c, int64_t h, int64_t w) {
  const int64_t n = c * h * w;
  float lo = x[0], hi = x[0];
  for (int64_t i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
  std::vector<unsigned char> out(static_cast<size_t>(n));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t p = 0; p < h * w; ++p)
      out[static_cast<size_t>(p * c + k)] = static_cast<unsigned char>(std::lround((x[k * h * w + p] - lo) * scale));
  return out;
}

}  // namespace

ImageWriter::ImageWriter(std::string dir, io::FeatureStore pool, bool force)
    : dir_(std::move(dir)), pool_(std::move(pool)), force_(force) {
  const std::vector<int64_t>& shape = pool_.info().image_shape;
  SUBSET_CHECK(shape.size() == 3, pool_.path(), "--images needs an image store (attribute image_shape), and this one has none");
  SUBSET_CHECK(shape[0] == 1 || shape[0] == 3, pool_.path(), "images have " << shape[0] << " channels; PNGs take 1 or 3");
  std::error_code ec;
  SUBSET_CHECK(force_ || !fs::exists(dir_, ec), dir_, "exists (use --force to replace it)");
  const fs::path target(dir_);
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  temp_ = (parent / ("." + target.filename().string() + ".partial-" + std::to_string(::getpid()))).string();
  fs::remove_all(temp_, ec);
  SUBSET_CHECK(fs::create_directory(temp_, ec), dir_, "cannot create a directory next to it: " << ec.message());
}

ImageWriter::~ImageWriter() {
  std::error_code ec;
  if (!done_) fs::remove_all(temp_, ec);
}

int64_t ImageWriter::write(const std::vector<int64_t>& rows) {
  const std::vector<int64_t>& s = pool_.info().image_shape;
  const int64_t c = s[0], h = s[1], w = s[2];
  const io::FeatureArray features = pool_.features();
  const int64_t per_line = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(rows.size())))));
  const int64_t lines = (static_cast<int64_t>(rows.size()) + per_line - 1) / per_line;
  const int64_t sheet_w = per_line * (w + 1) - 1, sheet_h = std::max<int64_t>(1, lines * (h + 1) - 1);
  std::vector<unsigned char> sheet(static_cast<size_t>(sheet_w * sheet_h * c), 255);
  std::vector<float> x(static_cast<size_t>(features.cols()));
  for (size_t i = 0; i < rows.size(); ++i) {
    features.read_rows(rows[i], 1, x.data());
    const std::vector<unsigned char> px = to_pixels(x.data(), c, h, w);
    write_png(temp_ + "/row" + std::to_string(rows[i]) + ".png", px, w, h, c);
    const int64_t x0 = static_cast<int64_t>(i) % per_line * (w + 1), y0 = static_cast<int64_t>(i) / per_line * (h + 1);
    for (int64_t y = 0; y < h; ++y)
      std::copy(px.begin() + y * w * c, px.begin() + (y + 1) * w * c, sheet.begin() + ((y0 + y) * sheet_w + x0) * c);
  }
  write_png(temp_ + "/contact.png", sheet, sheet_w, sheet_h, c);
  return static_cast<int64_t>(rows.size()) + 1;
}

void ImageWriter::commit() {
  std::error_code ec;
  if (force_ && fs::exists(dir_, ec)) fs::remove_all(dir_, ec);
  fs::rename(temp_, dir_, ec);
  SUBSET_CHECK(!ec, dir_, "cannot put the images in place: " << ec.message());
  done_ = true;
}

}  // namespace subset::workflows::al
