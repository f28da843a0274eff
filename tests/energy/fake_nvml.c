/* A stand-in for libnvidia-ml.so.1 with the real NVML ABI (nvmlReturn_t is an int enum with
 * NVML_SUCCESS 0 and NVML_ERROR_NOT_SUPPORTED 3; nvmlDevice_t is an opaque pointer), so the energy
 * meter's NVML path runs on machines without an NVIDIA GPU. It is steered by the environment, read
 * on every call so that each test sets its own scene:
 *   FAKE_NVML_INIT_FAIL=1      nvmlInit_v2 returns NVML_ERROR_DRIVER_NOT_LOADED
 *   FAKE_NVML_DEVICES=N        device count (default 1)
 *   FAKE_NVML_ENERGY_FILE=P    total energy in mJ, read from file P (the test advances it)
 *   FAKE_NVML_NO_ENERGY=1      total energy returns NVML_ERROR_NOT_SUPPORTED (power path)
 *   FAKE_NVML_POWER_MW=W       power usage in mW (default 0)
 *   FAKE_NVML_LOG=P            appends "init" / "shutdown" lines to file P
 * Device i reports (i + 1) times the energy and power, so that devices can be told apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st* nvmlDevice_t;

enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_UNKNOWN = 999
};

#define FAKE_MAX_DEVICES 8
static char fake_devices[FAKE_MAX_DEVICES];
static int fake_initialized = 0;

static long env_long(const char* name, long fallback) {
  const char* v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : fallback;
}

static void fake_log(const char* line) {
  const char* path = getenv("FAKE_NVML_LOG");
  FILE* f;
  if (!path || !*path) return;
  f = fopen(path, "a");
  if (!f) return;
  fprintf(f, "%s\n", line);
  fclose(f);
}

static int device_index(nvmlDevice_t device) {
  const char* p = (const char*)device;
  if (p < fake_devices || p >= fake_devices + FAKE_MAX_DEVICES) return -1;
  return (int)(p - fake_devices);
}

nvmlReturn_t nvmlInit_v2(void) {
  if (env_long("FAKE_NVML_INIT_FAIL", 0)) return NVML_ERROR_DRIVER_NOT_LOADED;
  fake_initialized = 1;
  fake_log("init");
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  if (!fake_initialized) return NVML_ERROR_UNINITIALIZED;
  fake_initialized = 0;
  fake_log("shutdown");
  return NVML_SUCCESS;
}

const char* nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  long n = env_long("FAKE_NVML_DEVICES", 1);
  if (!fake_initialized) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (n < 0) n = 0;
  if (n > FAKE_MAX_DEVICES) n = FAKE_MAX_DEVICES;
  *count = (unsigned int)n;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  unsigned int count = 0;
  if (nvmlDeviceGetCount_v2(&count) != NVML_SUCCESS) return NVML_ERROR_UNINITIALIZED;
  if (!device || index >= count) return NVML_ERROR_INVALID_ARGUMENT;
  *device = (nvmlDevice_t)(void*)(fake_devices + index);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  const int i = device_index(device);
  if (i < 0 || !name || length == 0) return NVML_ERROR_INVALID_ARGUMENT;
  snprintf(name, length, "Fake GPU %d", i);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy) {
  const int i = device_index(device);
  const char* path = getenv("FAKE_NVML_ENERGY_FILE");
  unsigned long long mj = 0;
  FILE* f;
  if (!fake_initialized) return NVML_ERROR_UNINITIALIZED;
  if (i < 0 || !energy) return NVML_ERROR_INVALID_ARGUMENT;
  if (env_long("FAKE_NVML_NO_ENERGY", 0)) return NVML_ERROR_NOT_SUPPORTED;
  if (!path || !*path) return NVML_ERROR_UNKNOWN;
  f = fopen(path, "r");
  if (!f) return NVML_ERROR_UNKNOWN;
  if (fscanf(f, "%llu", &mj) != 1) {
    fclose(f);
    return NVML_ERROR_UNKNOWN;
  }
  fclose(f);
  *energy = mj * (unsigned long long)(i + 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  const int i = device_index(device);
  if (!fake_initialized) return NVML_ERROR_UNINITIALIZED;
  if (i < 0 || !power) return NVML_ERROR_INVALID_ARGUMENT;
  *power = (unsigned int)env_long("FAKE_NVML_POWER_MW", 0) * (unsigned int)(i + 1);
  return NVML_SUCCESS;
}
