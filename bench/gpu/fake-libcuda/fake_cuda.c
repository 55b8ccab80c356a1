/* A fake CUDA driver library (libcuda.so.1) for checking, on a machine without a GPU, how FsrNative and ILGPU 1.5.3
 * react to a driver: the libcuda.so.1-only fallback, a driver too old for ILGPU, a device index out of range, and a
 * context creation failure. It answers device queries like one H100 (compute capability from FAKE_CUDA_CC, default
 * 90) and reports the CUDA version in FAKE_CUDA_VERSION (cuDriverGetVersion's encoding, default 10020 = 10.2).
 * cuCtxCreate_v2 always fails with CUDA_ERROR_UNKNOWN (999): nothing can run on it. Built and used by check.sh. */
#include <stdlib.h>
#include <string.h>

static int env_int(const char *name, int fallback) { const char *v = getenv(name); return v && *v ? atoi(v) : fallback; }

int cuInit(unsigned flags) { (void)flags; return 0; }
int cuDriverGetVersion(int *v) { *v = env_int("FAKE_CUDA_VERSION", 10020); return 0; }
int cuDeviceGetCount(int *n) { *n = env_int("FAKE_CUDA_DEVICES", 1); return 0; }
int cuDeviceGet(int *d, int ordinal) { *d = ordinal; return ordinal < env_int("FAKE_CUDA_DEVICES", 1) ? 0 : 101; }
int cuDeviceGetName(char *name, int len, int dev) { (void)dev; strncpy(name, "Fake NVIDIA H100 (fake libcuda)", len); if (len > 0) name[len - 1] = 0; return 0; }
int cuDeviceTotalMem_v2(size_t *bytes, int dev) { (void)dev; *bytes = (size_t)80 << 30; return 0; }
int cuDeviceGetAttribute(int *v, int attr, int dev)
{
    (void)dev;
    int cc = env_int("FAKE_CUDA_CC", 90);
    switch (attr)
    {
        case 1: case 2: *v = 1024; break;          /* max threads per block, max block dim x */
        case 3: *v = 64; break;
        case 4: *v = 64; break;
        case 5: *v = 2147483647; break;            /* max grid dim x */
        case 6: case 7: *v = 65535; break;
        case 8: *v = 49152; break;                 /* shared memory per block */
        case 10: *v = 32; break;                   /* warp size */
        case 12: *v = 65536; break;                /* registers per block */
        case 13: *v = 1755000; break;              /* clock rate, kHz */
        case 16: *v = 132; break;                  /* multiprocessors */
        case 39: *v = 2048; break;                 /* threads per multiprocessor */
        case 75: *v = cc / 10; break;              /* compute capability major */
        case 76: *v = cc % 10; break;              /* compute capability minor */
        default: *v = 1; break;
    }
    return 0;
}
int cuGetErrorName(int e, const char **s) { *s = e == 999 ? "CUDA_ERROR_UNKNOWN" : e == 101 ? "CUDA_ERROR_INVALID_DEVICE" : "CUDA_ERROR_FAKE"; return 0; }
int cuGetErrorString(int e, const char **s) { *s = e == 999 ? "unknown error (fake libcuda: no context can be created)" : "fake libcuda error"; return 0; }
int cuCtxCreate_v2(void **ctx, unsigned flags, int dev) { (void)ctx; (void)flags; (void)dev; return 999; }
