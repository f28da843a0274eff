# ctest driver: install libsubset into a scratch prefix, then configure, build and run the consumer
# project against that prefix only.
#   -DBUILD_DIR=<configured and built libsubset build tree>, or
#   -DLIBSUBSET_SOURCE=<source root> -DLIBSUBSET_OPTIONS=<cache options>: configure and build a fresh
#    tree in WORK_DIR first (SUBSET_JOBS in the environment: parallel jobs, default all cores).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
if(LIBSUBSET_SOURCE)
  set(BUILD_DIR ${WORK_DIR}/libsubset-build)
  # Tests and benchmarks are not installed; what matters is what the libraries and their headers need.
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${LIBSUBSET_SOURCE} -B ${BUILD_DIR} -DSUBSET_BUILD_TESTS=OFF ${LIBSUBSET_OPTIONS}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "configuring libsubset with ${LIBSUBSET_OPTIONS} failed: ${rc}")
  endif()
  set(jobs $ENV{SUBSET_JOBS})
  if(NOT jobs)
    cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} -j ${jobs} RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "building libsubset with ${LIBSUBSET_OPTIONS} failed: ${rc}")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
# Headers that declare only the model-training library's functions ship only with it.
if(NOT WITH_TORCH AND EXISTS ${prefix}/include/libsubset/workflows/nn_entry.h)
  message(FATAL_ERROR "workflows/nn_entry.h is installed without libsubset_workflows_nn")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix}
                        -DCMAKE_BUILD_TYPE=Release RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer ${WORK_DIR}/out.h5 RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
# The installed CLI finds the model-training library it loads at run time (RUNPATH $ORIGIN/../lib):
# given a missing store, evaluate gets as far as opening it, which happens after the library loaded.
# Without libtorch it says so in one error line.
execute_process(COMMAND ${prefix}/bin/subset evaluate ${WORK_DIR}/no-such-store.h5 RESULT_VARIABLE rc
                ERROR_VARIABLE err OUTPUT_QUIET)
if(WITH_TORCH)
  set(expected "no such file")
else()
  set(expected "^error: this build has no libtorch[^\n]*\n$")
endif()
if(NOT rc EQUAL 1 OR NOT err MATCHES "${expected}")
  message(FATAL_ERROR "installed `subset evaluate`: expected exit 1 and '${expected}', got rc=${rc} ${err}")
endif()
# The installed Python package: imported from its install directory by Debian's interpreter, from
# another directory, it finds the installed libraries (RUNPATH) and selects; without libtorch its
# training calls say so.
if(PYTHON AND PYTHON_SITE AND EXISTS ${prefix}/${PYTHON_SITE}/libsubset/__init__.py)
  set(check [=[
import os, sys
import numpy as np
import libsubset
prefix = sys.argv[1]
assert os.path.realpath(libsubset.__file__).startswith(os.path.realpath(prefix)), libsubset.__file__
X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
assert len(libsubset.select(X, method="kcenter", budget=5).indices) == 5
try:
    libsubset.evaluate(os.path.join(prefix, "no-such-store.h5"))
except Exception as e:
    print(type(e).__name__, e)
]=])
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${prefix}/${PYTHON_SITE} ${PYTHON} -c "${check}" ${prefix}
                  WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(WITH_TORCH)
    set(expected "^FileNotFoundError .*no such file")
  else()
    set(expected "^RuntimeError .*no libtorch")
  endif()
  if(rc OR NOT out MATCHES "${expected}")
    message(FATAL_ERROR "installed Python package: expected '${expected}', got rc=${rc} ${out} ${err}")
  endif()
elseif(PYTHON_SITE)
  message(FATAL_ERROR "the Python package was not installed under ${prefix}/${PYTHON_SITE}")
endif()
