using ILGPU;

namespace FsrNative.Kernels.Gpu;

/// <summary>
/// Device-side error reporting. GPU kernels cannot throw, and downloading index tensors to validate them would add a
/// sync point to every indexing op. Instead a kernel that meets an invalid input (an index out of range, a float that
/// does not fit an Int32) clamps it so that no memory outside the tensors is touched, and records the first error in a
/// small Int32 buffer: word 0 = the op (one of the constants below; 0 = no error), word 1 = the element position,
/// word 2 = the offending value (bits, for floats), word 3 = the size it had to be below. The host checks the buffer at
/// the next sync point (Synchronize, Download) and throws naming the op; the output of the failing op is then
/// undefined (but memory-safe), as with out-of-range indices in CUDA PyTorch.
/// </summary>
public static class KernelErrors
{
    /// <summary>Length of the error buffer in Int32 words.</summary>
    public const int Words = 4;

    public const int None = 0, IndexSelect = 1, IndexAdd = 2, Gather = 3, ScatterAdd = 4, OneHot = 5, CastToInt32 = 6;

    /// <summary>A cross-entropy target neither in [0, classes) nor the ignore index (losses family).</summary>
    public const int CrossEntropy = 20;

    /// <summary>Records an error unless one is already recorded (the first one wins; integer atomics only).</summary>
    public static void Report(ArrayView<int> errors, int op, int position, int value, int limit)
    {
        if (Atomic.CompareExchange(ref errors[0], None, op) == None)
        {
            errors[1] = position;
            errors[2] = value;
            errors[3] = limit;
        }
    }

    /// <summary>The op name for an error code (host side).</summary>
    public static string OpName(int op) => op switch
    {
        IndexSelect => "index_select",
        IndexAdd => "index_add",
        Gather => "gather",
        ScatterAdd => "scatter_add",
        OneHot => "one_hot",
        CastToInt32 => "cast to Int32",
        CrossEntropy => "cross_entropy (target)",
        _ => $"kernel error {op}",
    };
}
