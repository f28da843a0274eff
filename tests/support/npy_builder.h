#pragma once
// .npy files built byte by byte, following NumPy's format description (NEP 1 / numpy.lib.format):
// "\x93NUMPY", major, minor, header length (u16 LE for 1.0, u32 LE for 2.0 and 3.0), an ASCII dict
// padded with spaces and ended by '\n' so that the data starts at a multiple of 64, then the raw data.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace subset::test {

inline std::string npy_bytes(const std::string& descr, bool fortran, const std::string& shape,
                             const std::string& data, int major = 1) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  const size_t prefix = major == 1 ? 10 : 12;
  const size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  const uint32_t len = static_cast<uint32_t>(dict.size());
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  if (major != 1) {
    out.push_back(static_cast<char>((len >> 16) & 0xff));
    out.push_back(static_cast<char>((len >> 24) & 0xff));
  }
  return out + dict + data;
}

// A file with a raw, caller-written header dict (for malformed headers).
inline std::string npy_raw_header(const std::string& dict, const std::string& data = {}) {
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\0');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return out + dict + data;
}

// Raw bytes of values in little-endian (the machine's order on x86/ARM) or big-endian order.
template <typename T>
std::string raw_le(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T>
std::string raw_be(const std::vector<T>& values) {
  std::string out;
  for (const T& v : values) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (size_t i = sizeof(T); i-- > 0;) out.push_back(static_cast<char>(b[i]));
  }
  return out;
}

}  // namespace subset::test
