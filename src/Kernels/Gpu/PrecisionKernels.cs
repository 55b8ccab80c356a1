// Mixed precision (definition: Cpu/Reference/ReferencePrecision.cs; the bit form: Cpu/Precision/CpuBf16.cs).
//  * Bf16Round: one thread per element, grid-stride, implicitly grouped: y = x rounded to the nearest bfloat16 (ties
//    to even, NaN kept a quiet NaN), stored as float32 — the integer add on the float's bits that c10::BFloat16 and
//    the tensor cores' cvt.rn.bf16.f32 compute. No shared memory; a handful of registers.
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class PrecisionKernels
{
    /// <summary>y[e] = bf16(x[e]) for e in [0, n); x and y may be the same view (in place).</summary>
    [GpuKernel]
    public static void Bf16Round(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y)
    {
        for (int e = index; e < n; e += step)
        {
            float v = x[e];
            uint bits = Interop.FloatAsInt(v);
            uint rounded = (bits & 0x7FFFFFFFu) <= 0x7F800000u   // not NaN
                ? (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u
                : (bits | 0x00400000u) & 0xFFFF0000u;
            y[e] = Interop.IntAsFloat(rounded);
        }
    }
}
