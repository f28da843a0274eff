#include "libsubset/io/npy.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"

namespace subset::io {
namespace {

// Finds `'key':` in the header dict and returns the text of its value up to the next top-level ','
// or '}' (tuples kept whole).
std::string dict_value(const std::string& dict, const std::string& key, const std::string& path) {
  const std::string needle = "'" + key + "'";
  auto pos = dict.find(needle);
  SUBSET_CHECK(pos != std::string::npos, path, "npy header has no '" << key << "' entry");
  pos = dict.find(':', pos + needle.size());
  SUBSET_CHECK(pos != std::string::npos, path, "cannot parse the npy header");
  ++pos;
  int depth = 0;
  size_t end = pos;
  for (; end < dict.size(); ++end) {
    const char c = dict[end];
    if (c == '(' || c == '[') ++depth;
    else if (c == ')' || c == ']') --depth;
    else if ((c == ',' || c == '}') && depth == 0) break;
  }
  std::string v = dict.substr(pos, end - pos);
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  return v;
}

NpyHeader parse_header(const std::string& dict, const std::string& path) {
  NpyHeader h;
  std::string descr = dict_value(dict, "descr", path);
  SUBSET_CHECK(descr.size() >= 2 && (descr.front() == '\'' || descr.front() == '"'), path,
               "structured npy arrays are not supported (descr " << descr << ")");
  descr = descr.substr(1, descr.size() - 2);
  h.descr = descr;
  SUBSET_CHECK(descr.size() >= 3, path, "unsupported npy dtype '" << descr << "'");
  const char order = descr[0];
  const char kind = descr[1];
  SUBSET_CHECK(std::string("fiub").find(kind) != std::string::npos, path,
               "npy dtype '" << descr << "' is not numeric (need float, integer or bool)");
  int size = 0;
  const auto [end, ec] = std::from_chars(descr.data() + 2, descr.data() + descr.size(), size);
  SUBSET_CHECK(ec == std::errc() && end == descr.data() + descr.size(), path, "unsupported npy dtype '" << descr << "'");
  h.item_size = size;
  h.big_endian = order == '>' || (order == '!' && size > 1);
  switch (kind) {
    case 'f':
      SUBSET_CHECK(size == 4 || size == 8, path, "unsupported float size in npy dtype '" << descr << "'");
      h.kind = NpyKind::Float;
      break;
    case 'i':
    case 'u':
      SUBSET_CHECK(size == 1 || size == 2 || size == 4 || size == 8, path, "unsupported npy dtype '" << descr << "'");
      h.kind = kind == 'i' ? NpyKind::SignedInt : NpyKind::UnsignedInt;
      break;
    case 'b':
      SUBSET_CHECK(size == 1, path, "unsupported npy dtype '" << descr << "'");
      h.kind = NpyKind::Bool;
      break;
    default:
      SUBSET_FAIL(path, "npy dtype '" << descr << "' is not numeric (need float, integer or bool)");
  }
  const std::string fortran = dict_value(dict, "fortran_order", path);
  SUBSET_CHECK(fortran == "True" || fortran == "False", path, "cannot parse fortran_order in the npy header");
  h.fortran_order = fortran == "True";
  std::string shape = dict_value(dict, "shape", path);
  SUBSET_CHECK(shape.size() >= 2 && shape.front() == '(' && shape.back() == ')', path,
               "cannot parse the npy shape " << shape);
  shape = shape.substr(1, shape.size() - 2);
  size_t pos = 0;
  while (pos < shape.size()) {
    size_t comma = shape.find(',', pos);
    if (comma == std::string::npos) comma = shape.size();
    std::string item = shape.substr(pos, comma - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) {
      if (item.back() == 'L') item.pop_back();  // Python 2 longs
      try {
        size_t used = 0;
        const long long v = std::stoll(item, &used);
        SUBSET_CHECK(used == item.size() && v >= 0, path, "bad npy shape entry '" << item << "'");
        h.shape.push_back(v);
      } catch (const Error&) {
        throw;
      } catch (...) {
        SUBSET_FAIL(path, "bad npy shape entry '" << item << "'");
      }
    }
    pos = comma + 1;
  }
  return h;
}

template <typename T>
T load_le(const unsigned char* p, bool big_endian) {
  unsigned char b[sizeof(T)];
  if (big_endian) std::reverse_copy(p, p + sizeof(T), b);
  else std::memcpy(b, p, sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

// Element `i` of raw data as double (exact for every integer type up to 2^53).
double element(const NpyHeader& h, const unsigned char* raw, int64_t i) {
  const unsigned char* p = raw + i * h.item_size;
  switch (h.kind) {
    case NpyKind::Float: return h.item_size == 4 ? load_le<float>(p, h.big_endian) : load_le<double>(p, h.big_endian);
    case NpyKind::Bool: return *p ? 1.0 : 0.0;
    case NpyKind::SignedInt:
      switch (h.item_size) {
        case 1: return static_cast<int8_t>(*p);
        case 2: return load_le<int16_t>(p, h.big_endian);
        case 4: return load_le<int32_t>(p, h.big_endian);
        default: return static_cast<double>(load_le<int64_t>(p, h.big_endian));
      }
    case NpyKind::UnsignedInt:
      switch (h.item_size) {
        case 1: return *p;
        case 2: return load_le<uint16_t>(p, h.big_endian);
        case 4: return load_le<uint32_t>(p, h.big_endian);
        default: return static_cast<double>(load_le<uint64_t>(p, h.big_endian));
      }
  }
  return 0.0;
}

// Converts n elements; returns the index of the first finite value too large for float32 (which
// would otherwise turn into Inf and be reported as if the input held Inf), or -1.
int64_t convert_to_float(const NpyHeader& h, const unsigned char* raw, int64_t n, float* out) {
  if (h.kind == NpyKind::Float && h.item_size == 4 && !h.big_endian) {
    std::memcpy(out, raw, static_cast<size_t>(n) * 4);
  } else if (h.kind == NpyKind::UnsignedInt && h.item_size == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(raw[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const double v = element(h, raw, i);
      out[i] = static_cast<float>(v);
      if (std::isfinite(v) && !std::isfinite(out[i])) return i;
    }
  }
  return -1;
}

std::string describe_npy_shape(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

std::string NpyHeader::dtype_name() const {
  const std::string bits = std::to_string(item_size * 8);
  switch (kind) {
    case NpyKind::Float: return "float" + bits;
    case NpyKind::SignedInt: return "int" + bits;
    case NpyKind::UnsignedInt: return "uint" + bits;
    case NpyKind::Bool: return "bool";
  }
  return "?";
}

NpyReader::NpyReader(const std::string& path) : path_(path), in_(std::make_unique<InputFile>(path)) {
  char magic[8] = {0};
  size_t got = 0;  // a file shorter than the magic string is "not npy", not "truncated"
  while (got < sizeof magic)
    if (const size_t n = in_->read_some(magic + got, sizeof magic - got)) got += n;
    else break;
  SUBSET_CHECK(got >= 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0, path, "not a .npy file (bad magic string)");
  SUBSET_CHECK(got == sizeof magic, path, "file is truncated while reading the npy header");
  const int major = static_cast<unsigned char>(magic[6]);
  SUBSET_CHECK(major >= 1 && major <= 3, path, "npy format version " << major << " is not supported");
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in_->read_exact(b, 2, "the npy header");
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in_->read_exact(b, 4, "the npy header");
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  SUBSET_CHECK(header_len < (1u << 24), path, "npy header is implausibly long");
  std::string dict(header_len, '\0');
  in_->read_exact(dict.data(), header_len, "the npy header");
  header_ = parse_header(dict, path);
  // Every size derived from the header (elements, bytes, row bytes as float32 or as the file's
  // type) must fit in int64 before anything is allocated or divided by it; a dimension of zero must
  // not hide an overflowing product of the others.
  const auto too_large = [&] {
    SUBSET_FAIL(path, "npy shape " << describe_npy_shape(header_.shape) << " is too large to address");
  };
  int64_t cols = 1;
  for (size_t i = 1; i < header_.shape.size(); ++i)
    if (__builtin_mul_overflow(cols, header_.shape[i], &cols)) too_large();
  int64_t row_bytes = 0, elements = 0, data_bytes = 0, expected = 0;
  if (__builtin_mul_overflow(cols, int64_t{8}, &row_bytes)) too_large();
  if (__builtin_mul_overflow(rows(), cols, &elements)) too_large();
  if (__builtin_mul_overflow(elements, int64_t{8}, &data_bytes)) too_large();
  data_bytes = elements * header_.item_size;
  if (__builtin_add_overflow(static_cast<int64_t>(in_->position()), data_bytes, &expected)) too_large();
  if (in_->size() >= 0) {
    const int64_t held = in_->size() - static_cast<int64_t>(in_->position());
    SUBSET_CHECK(in_->size() == expected, path,
                 "npy shape " << describe_npy_shape(header_.shape) << " of " << header_.dtype_name() << " needs "
                              << data_bytes << " bytes of data but the file holds " << held);
  }
}

NpyReader::~NpyReader() = default;

int64_t NpyReader::rows() const { return header_.shape.empty() ? 1 : header_.shape[0]; }

int64_t NpyReader::cols() const {
  int64_t c = 1;
  for (size_t i = 1; i < header_.shape.size(); ++i) c *= header_.shape[i];
  return c;
}

void NpyReader::read_elements(int64_t count, std::vector<unsigned char>& raw) {
  raw.resize(static_cast<size_t>(count * header_.item_size));
  in_->read_exact(raw.data(), raw.size(), "the npy data");
}

void NpyReader::ensure_fortran_loaded() {
  if (!fortran_rows_.empty() || rows() * cols() == 0) return;
  // Column-major (Fortran order): transposed once in memory.
  const int64_t n = rows() * cols();
  std::vector<unsigned char> raw;
  read_elements(n, raw);
  std::vector<float> col_major(static_cast<size_t>(n));
  const int64_t overflow = convert_to_float(header_, raw.data(), n, col_major.data());
  SUBSET_CHECK(overflow < 0, path_, "value at row " << overflow % rows() << " is out of float32 range");
  // Element (r, i1, ..., ik) sits at r + i1 * d0 + i2 * d0 * d1 + ...; column c of a row is the
  // C-order flattening of (i1, ..., ik), so its offset is not simply c * rows beyond 2-D.
  const auto& shape = header_.shape;
  std::vector<int64_t> stride(shape.size(), 1);
  for (size_t axis = 1; axis < shape.size(); ++axis) stride[axis] = stride[axis - 1] * shape[axis - 1];
  std::vector<int64_t> offset(static_cast<size_t>(cols()), 0);
  for (int64_t c = 0; c < cols(); ++c) {
    int64_t rest = c;
    for (size_t axis = shape.size() - 1; axis >= 1; --axis) {
      offset[static_cast<size_t>(c)] += (rest % shape[axis]) * stride[axis];
      rest /= shape[axis];
    }
  }
  fortran_rows_.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows(); ++r)
    for (int64_t c = 0; c < cols(); ++c) fortran_rows_[r * cols() + c] = col_major[offset[c] + r];
}

void NpyReader::read_rows_as_float(int64_t count, float* out) {
  SUBSET_CHECK(count >= 0 && rows_read_ + count <= rows(), path_, "read past the end of the npy array");
  check_interrupted();
  if (header_.fortran_order && header_.shape.size() > 1) {
    ensure_fortran_loaded();
    std::memcpy(out, fortran_rows_.data() + rows_read_ * cols(), static_cast<size_t>(count * cols()) * sizeof(float));
  } else {
    std::vector<unsigned char> raw;
    read_elements(count * cols(), raw);
    const int64_t overflow = convert_to_float(header_, raw.data(), count * cols(), out);
    SUBSET_CHECK(overflow < 0, path_,
                 "value " << element(header_, raw.data(), overflow) << " at row " << rows_read_ + overflow / cols()
                          << ", column " << overflow % cols() << " is out of float32 range");
  }
  rows_read_ += count;
}

std::vector<int64_t> NpyReader::read_all_as_int64() {
  SUBSET_CHECK(header_.shape.size() == 1 || (header_.shape.size() == 2 && header_.shape[1] == 1), path_,
               "labels must be a 1-D array, found " << header_.shape.size() << "-D");
  const int64_t n = rows();
  std::vector<unsigned char> raw;
  read_elements(n, raw);
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (header_.kind == NpyKind::SignedInt && header_.item_size == 8) {
      out[i] = load_le<int64_t>(raw.data() + i * 8, header_.big_endian);
      continue;
    }
    if (header_.kind == NpyKind::UnsignedInt && header_.item_size == 8) {
      // Exact, not through double: 2^64-1 must be refused, not rounded into range.
      const uint64_t u = load_le<uint64_t>(raw.data() + i * 8, header_.big_endian);
      SUBSET_CHECK(u <= static_cast<uint64_t>(INT64_MAX), path_,
                   "label " << u << " at row " << i << " is not a class id (above the int64 range)");
      out[i] = static_cast<int64_t>(u);
      continue;
    }
    const double v = element(header_, raw.data(), i);
    SUBSET_CHECK(std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15, path_,
                 "label at row " << i << " is not an integer (" << v << ")");
    out[i] = static_cast<int64_t>(v);
  }
  rows_read_ = n;
  return out;
}

}  // namespace subset::io
