using Xunit;

namespace FsrNative.Tests.Parity;

/// <summary>
/// Test classes that make ILGPU kernels record an error on purpose (out-of-range indices, bad class targets) on the
/// shared ILGPU CPU-accelerator device. A device has one error buffer, reported at its next sync point (see
/// IlgpuBackend's KernelErrors): a test syncing the same device in parallel could receive the other test's error.
/// These classes therefore run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(KernelErrorReporting), DisableParallelization = true)]
public sealed class KernelErrorReporting;
