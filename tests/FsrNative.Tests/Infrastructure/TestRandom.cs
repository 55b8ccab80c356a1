namespace FsrNative.Tests.Infrastructure;

/// <summary>
/// Deterministic random test data, independent of the engine, of .NET's <see cref="Random"/> algorithm and of
/// libtorch's generator: the same seed gives the same numbers on every machine and every .NET version.
/// SplitMix64 (Steele, Lea, Flood 2014) for the bits; floats take the top 24 bits, so every value is exactly
/// representable. Each call starts from its own seed: no hidden shared state between tests.
/// </summary>
public static class TestRandom
{
    /// <summary>Uniform floats in [lo, hi).</summary>
    public static float[] Uniform(ulong seed, int count, float lo = -1f, float hi = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!(hi > lo)) throw new ArgumentException($"Uniform: need hi > lo, got lo={lo}, hi={hi}.");
        var rng = new SplitMix64(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i++)
        {
            float v = (float)(lo + ((double)hi - lo) * rng.NextFloat01());
            a[i] = v < hi ? v : MathF.BitDecrement(hi); // rounding to float may land on hi
        }
        return a;
    }

    /// <summary>Normally distributed floats N(mean, std²) by Box–Muller, computed in double.</summary>
    public static float[] Normal(ulong seed, int count, float mean = 0f, float std = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new SplitMix64(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble01(); // (0, 1]: log is finite
            double u2 = rng.NextDouble01();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            a[i] = (float)(mean + std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < a.Length) a[i + 1] = (float)(mean + std * r * Math.Sin(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>Uniform doubles in [lo, hi) (for float64 gradchecks).</summary>
    public static double[] UniformDouble(ulong seed, int count, double lo = -1.0, double hi = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!(hi > lo)) throw new ArgumentException($"UniformDouble: need hi > lo, got lo={lo}, hi={hi}.");
        var rng = new SplitMix64(seed);
        var a = new double[count];
        for (int i = 0; i < a.Length; i++) a[i] = lo + (hi - lo) * rng.NextDouble01();
        return a;
    }

    /// <summary>Uniform integers in [lo, hi) (class labels, indices).</summary>
    public static int[] Integers(ulong seed, int count, int lo, int hi)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (hi <= lo) throw new ArgumentException($"Integers: need hi > lo, got lo={lo}, hi={hi}.");
        var rng = new SplitMix64(seed);
        var a = new int[count];
        ulong range = (ulong)((long)hi - lo);
        for (int i = 0; i < a.Length; i++) a[i] = (int)(lo + (long)(rng.Next() % range)); // bias < 2^-32 for int ranges
        return a;
    }

    /// <summary>A seed derived from a test name and a case number, so that every case has its own stream.</summary>
    public static ulong SeedFor(string name, int index = 0)
    {
        // FNV-1a over the UTF-16 code units: stable across processes (string.GetHashCode is randomized).
        ulong h = 14695981039346656037UL;
        foreach (char c in name) { h ^= c; h *= 1099511628211UL; }
        h ^= (ulong)(uint)index; h *= 1099511628211UL;
        return h;
    }

    /// <summary>Product of the dimensions; throws on negative sizes or overflow.</summary>
    public static int Numel(params int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Numel: negative dimension in [{string.Join(", ", shape)}].");
            n = checked(n * d);
        }
        return checked((int)n);
    }

    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public float NextFloat01() => (Next() >> 40) * (1.0f / (1 << 24));
        public double NextDouble01() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
