namespace FsrNative.Kernels.Random;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
/// generator. A 64-bit key (the seed) and a 128-bit counter map to four 32-bit random words with no state, so
/// element <c>i</c> of a random tensor can be computed independently on any backend and always gives the same bits.
/// Written with plain integer arithmetic so the very same code compiles for ILGPU kernels.
/// </summary>
public static class Philox
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;   // multipliers
    const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;   // Weyl key increments

    /// <summary>The ten Philox rounds on counter (c0..c3) with key (k0, k1); the result replaces the counter.</summary>
    public static void Rounds(ref uint c0, ref uint c1, ref uint c2, ref uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            uint n0 = hi1 ^ c1 ^ k0;
            uint n2 = hi0 ^ c3 ^ k1;
            c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
            k0 += W0; k1 += W1;
        }
    }

    /// <summary>
    /// Word <paramref name="lane"/> (0..3) of block <paramref name="block"/> in stream <paramref name="stream"/>.
    /// The counter is (block lo, block hi, stream lo, stream hi); the key is the seed.
    /// </summary>
    public static uint Word(ulong seed, ulong stream, ulong block, int lane)
    {
        uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = (uint)stream, c3 = (uint)(stream >> 32);
        Rounds(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
        return lane == 0 ? c0 : lane == 1 ? c1 : lane == 2 ? c2 : c3;
    }

    /// <summary>A float in [0, 1) from the top 24 bits of a word (every value exactly representable).</summary>
    public static float ToUniform(uint word) => (word >> 8) * (1.0f / 16777216.0f);

    /// <summary>A float in (0, 1]: safe for log in Box–Muller.</summary>
    public static float ToUniformOpenZero(uint word) => ((word >> 8) + 1) * (1.0f / 16777216.0f);

    /// <summary>
    /// Element <paramref name="index"/> of a uniform [0,1) stream: element i uses word i % 4 of block i / 4.
    /// </summary>
    public static float Uniform(ulong seed, ulong stream, long index)
        => ToUniform(Word(seed, stream, (ulong)index >> 2, (int)(index & 3)));

    /// <summary>
    /// Element <paramref name="index"/> of a standard normal stream, by Box–Muller on the word pair
    /// (2j, 2j+1) of each block: elements 4b+0 and 4b+1 are the cos/sin outputs of words 0,1; elements 4b+2 and 4b+3
    /// those of words 2,3.
    /// </summary>
    public static float Normal(ulong seed, ulong stream, long index)
    {
        ulong block = (ulong)index >> 2;
        int lane = (int)(index & 3);
        uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = (uint)stream, c3 = (uint)(stream >> 32);
        Rounds(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
        uint wa = lane < 2 ? c0 : c2;
        uint wb = lane < 2 ? c1 : c3;
        float u1 = ToUniformOpenZero(wa);
        float u2 = ToUniform(wb);
        float r = MathF.Sqrt(-2.0f * MathF.Log(u1));
        float theta = 2.0f * MathF.PI * u2;
        return (lane & 1) == 0 ? r * MathF.Cos(theta) : r * MathF.Sin(theta);
    }
}
