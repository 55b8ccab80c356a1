using FsrNative.Kernels.Random;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Dropout masks from Philox4x32-10: element i of a draw is kept when <c>Philox.Uniform(seed, stream, i) &lt; keep</c>
/// and then multiplied by <c>scale</c> — the same formula as the reference and ILGPU kernels, so every backend drops the
/// same elements. One Philox block (ten rounds) gives the words of four consecutive elements.
/// </summary>
public static unsafe class CpuDropout
{
    /// <summary>z[j] = (U(seed, stream, index0 + j) &lt; keep ? scale : 0) for j &lt; n.</summary>
    public static void Factors(float* z, int n, long index0, ulong seed, ulong stream, float keep, float scale)
    {
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        long idx = index0;
        int j = 0;
        while (j < n)
        {
            ulong block = (ulong)idx >> 2;
            uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = (uint)stream, c3 = (uint)(stream >> 32);
            Philox.Rounds(ref c0, ref c1, ref c2, ref c3, k0, k1);
            for (int lane = (int)(idx & 3); lane < 4 && j < n; lane++, j++, idx++)
            {
                uint w = lane == 0 ? c0 : lane == 1 ? c1 : lane == 2 ? c2 : c3;
                z[j] = Philox.ToUniform(w) < keep ? scale : 0f;
            }
        }
    }

    /// <summary>y = x·z with z the dropout factors of elements 0..n−1 of (seed, stream); x and y contiguous, may alias.
    /// Split over cores in chunks of 4096 elements (a multiple of the Philox block).</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, float keep, float scale, ulong seed, ulong stream)
    {
        if (x.Length != y.Length) throw new ArgumentException($"dropout: input has {x.Length} elements, output {y.Length}");
        int n = x.Length;
        if (n == 0) return;
        fixed (float* px0 = x, py0 = y)
        {
            float* px = px0, py = py0;
            const int chunk = 4096;
            long chunks = (n + chunk - 1) / chunk;
            CpuParallel.For(chunks, chunk * 8L, 1, (s, e) =>
            {
                float* z = stackalloc float[chunk];
                for (long c = s; c < e; c++)
                {
                    int start = (int)(c * chunk), len = Math.Min(chunk, n - start);
                    Factors(z, len, start, seed, stream, keep, scale);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(
                        new ReadOnlySpan<float>(px + start, len), new ReadOnlySpan<float>(z, len), new Span<float>(py + start, len));
                }
            });
        }
    }
}
