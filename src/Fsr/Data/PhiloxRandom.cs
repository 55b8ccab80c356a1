using FsrNative.Kernels.Random;

namespace FsrNative.Data;

/// <summary>
/// What a random stream is for; the purpose is part of the Philox stream id, so the augmentation of a sample
/// never shares numbers with the epoch shuffle or the synthetic generator.
/// </summary>
public enum RandomPurpose : uint
{
    Augment = 0,
    Shuffle = 1,
    Synthetic = 2,
    Substitute = 3,
}

/// <summary>
/// A key for one independent random stream: the Philox key is the seed, the 64-bit stream id packs
/// (epoch: 24 bits, sample: 32 bits, view: 4 bits, purpose: 4 bits). Every random decision of the data pipeline is a
/// pure function of such a key, so any batch can be reproduced from (seed, epoch, sample, view) alone, whatever
/// thread computes it, and a resumed run sees the same data.
/// </summary>
public readonly record struct RandomKey(ulong Seed, long Epoch, long Sample, int View, RandomPurpose Purpose = RandomPurpose.Augment)
{
    public ulong Stream
    {
        get
        {
            if ((ulong)Epoch >= 1UL << 24) throw new ArgumentOutOfRangeException(nameof(Epoch), Epoch, "epoch must be in [0, 2^24)");
            if ((ulong)Sample >= 1UL << 32) throw new ArgumentOutOfRangeException(nameof(Sample), Sample, "sample must be in [0, 2^32)");
            if ((uint)View >= 16) throw new ArgumentOutOfRangeException(nameof(View), View, "view must be in [0, 16)");
            return ((ulong)Epoch << 40) | ((ulong)Sample << 8) | ((ulong)View << 4) | ((ulong)Purpose & 15);
        }
    }

    public PhiloxRandom Open() => new(Seed, Stream);
}

/// <summary>
/// Sequential draws from one Philox4x32-10 stream (word i of the stream is block i/4, lane i%4). Cheap to create;
/// not thread-safe (one per sample and view).
/// </summary>
public sealed class PhiloxRandom
{
    readonly ulong _seed, _stream;
    ulong _block;
    int _lane = 4;
    uint _w0, _w1, _w2, _w3;

    public PhiloxRandom(ulong seed, ulong stream) { _seed = seed; _stream = stream; }

    /// <summary>The next 32-bit word.</summary>
    public uint NextUInt()
    {
        if (_lane == 4)
        {
            uint c0 = (uint)_block, c1 = (uint)(_block >> 32), c2 = (uint)_stream, c3 = (uint)(_stream >> 32);
            Philox.Rounds(ref c0, ref c1, ref c2, ref c3, (uint)_seed, (uint)(_seed >> 32));
            _w0 = c0; _w1 = c1; _w2 = c2; _w3 = c3;
            _block++;
            _lane = 0;
        }
        return _lane++ switch { 0 => _w0, 1 => _w1, 2 => _w2, _ => _w3 };
    }

    /// <summary>Uniform in [0, 1) with 24 random bits (as <see cref="Philox.ToUniform"/>).</summary>
    public float NextFloat() => Philox.ToUniform(NextUInt());

    /// <summary>Uniform in [0, 1) with 53 random bits (two words).</summary>
    public double NextDouble()
    {
        ulong hi = NextUInt() >> 5, lo = NextUInt() >> 6;   // 27 + 26 bits
        return ((hi << 26) | lo) * (1.0 / 9007199254740992.0);
    }

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n) (multiply-shift on a 32-bit word; n ≥ 1).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "NextInt: n must be positive");
        return (int)(((ulong)NextUInt() * (ulong)n) >> 32);
    }

    /// <summary>Uniform integer in [lo, hi).</summary>
    public int NextInt(int lo, int hi) => lo + NextInt(hi - lo);

    /// <summary>True with probability p.</summary>
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>A standard normal draw (Box–Muller on two uniforms).</summary>
    public double Normal()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A uniformly random permutation of 0..n-1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>Index drawn with probability proportional to <paramref name="weights"/>.</summary>
    public int Choose(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (var w in weights) total += w;
        double u = NextDouble() * total;
        for (int i = 0; i < weights.Length; i++)
        {
            u -= weights[i];
            if (u < 0) return i;
        }
        return weights.Length - 1;
    }
}
