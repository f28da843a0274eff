# Build-time generator of libsubset/workflows/nn_abi.h: the ABI key that the `subset` CLI compares
# with the one compiled into the libsubset_workflows_nn it loads (tools/nn_plugin.cpp).
#
# The structs crossing that boundary hold std::string, JSON and Eigen members, so any edit to the
# headers that define them, or another compiler, can change their layout. The key is the SHA-256 of
# those headers (the roots below and every libsubset header they include, followed recursively) and
# of the toolchain; the C++ library's ABI macro is added when each side compiles (nn_abi.h.in).
#
# Run as a custom command: cmake -DSOURCE_DIR=.. -DGENERATED_DIR=.. -DTEMPLATE=.. -DOUTPUT=..
#   -DDEPFILE=.. -DSTAMP=.. -DTOOLCHAIN=.. -P nn_abi_key.cmake
# It writes DEPFILE listing every header hashed, so that editing any of them (even one newly included)
# regenerates the key without re-running CMake; OUTPUT is rewritten only when the key changes.
cmake_minimum_required(VERSION 3.20)  # policies for `cmake -P` (IN_LIST, POP_FRONT)

set(roots libsubset/workflows/nn_entry.h libsubset/workflows/evaluate.h libsubset/workflows/bench.h
          libsubset/workflows/condense.h)

set(pending ${roots})
set(seen "")
while(pending)
  list(POP_FRONT pending rel)
  if(rel IN_LIST seen)
    continue()
  endif()
  list(APPEND seen ${rel})
  if(EXISTS ${SOURCE_DIR}/${rel})
    set(path ${SOURCE_DIR}/${rel})
  elseif(EXISTS ${GENERATED_DIR}/${rel})
    set(path ${GENERATED_DIR}/${rel})
  else()
    message(FATAL_ERROR "nn_abi_key: ${rel} is included but neither in ${SOURCE_DIR} nor in ${GENERATED_DIR}")
  endif()
  list(APPEND files ${path})
  file(STRINGS ${path} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"libsubset/[^\"]+\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[^\"]*\"([^\"]+)\".*$" "\\1" inc "${line}")
    # The key's own header is not part of what it describes.
    if(NOT inc STREQUAL "libsubset/workflows/nn_abi.h")
      list(APPEND pending ${inc})
    endif()
  endforeach()
endwhile()

list(SORT seen)
set(material "toolchain: ${TOOLCHAIN}\n")
foreach(rel IN LISTS seen)
  if(EXISTS ${SOURCE_DIR}/${rel})
    file(SHA256 ${SOURCE_DIR}/${rel} h)
  else()
    file(SHA256 ${GENERATED_DIR}/${rel} h)
  endif()
  string(APPEND material "${rel} ${h}\n")
endforeach()
string(SHA256 SUBSET_NN_ABI_HASH "${material}")
list(LENGTH seen SUBSET_NN_ABI_HEADERS)

configure_file(${TEMPLATE} ${OUTPUT} @ONLY)  # leaves OUTPUT untouched when the key is unchanged
list(JOIN files " " deps)
file(WRITE ${DEPFILE} "${STAMP}: ${deps}\n")
file(TOUCH ${STAMP})
