using System.Numerics;

namespace FsrNative.Data.Synthetic;

/// <summary>
/// A scene's background: a horizon (or table edge) splits an upper and a lower region, each with its own texture,
/// plus clutter of background objects (clouds, bushes, trees, rocks, buoys, buildings, poles, fences, cups, books,
/// frames), some of them drawn in front of the objects as occluders.
/// </summary>
sealed class Background
{
    public required SceneKind Kind;
    public required int Size;
    /// <summary>The horizon / table-top line in pixels (may be ≥ Size: no ground visible).</summary>
    public required float Horizon;
    public required uint Seed;
    public required Vector3 SkyTop, SkyBottom, Ground, Ground2;
    public float Cloudiness, WaveFreq, GrainFreq;
    public bool Stripes;

    static Vector3 V(float r, float g, float b) => new(r, g, b);

    public static Background Create(SceneKind kind, PhiloxRandom rng, int size, uint seed)
    {
        float J(float a) => 1 + (float)rng.Uniform(-a, a);
        Vector3 sunsetTop = V(0.45f, 0.42f, 0.62f), sunsetBottom = V(0.95f, 0.62f, 0.38f);
        bool overcast = rng.Bernoulli(0.2), sunset = !overcast && rng.Bernoulli(0.12);
        Vector3 skyTop = overcast ? V(0.62f, 0.65f, 0.70f) : sunset ? sunsetTop : V(0.22f, 0.45f, 0.82f) * J(0.12f);
        Vector3 skyBottom = overcast ? V(0.80f, 0.82f, 0.84f) : sunset ? sunsetBottom : V(0.70f, 0.82f, 0.95f) * J(0.06f);
        var b = kind switch
        {
            SceneKind.Sky => new Background
            {
                Kind = kind, Size = size, Seed = seed, SkyTop = skyTop, SkyBottom = skyBottom,
                Horizon = size * (float)rng.Uniform(0.78, 1.3), Ground = V(0.25f, 0.42f, 0.2f) * J(0.15f), Ground2 = V(0.3f, 0.35f, 0.3f),
            },
            SceneKind.Water => new Background
            {
                Kind = kind, Size = size, Seed = seed, SkyTop = skyTop, SkyBottom = skyBottom,
                Horizon = size * (float)rng.Uniform(0.12, 0.45),
                Ground = (rng.Bernoulli(0.5) ? V(0.08f, 0.28f, 0.48f) : V(0.06f, 0.36f, 0.42f)) * J(0.15f),
                Ground2 = V(0.55f, 0.72f, 0.85f), WaveFreq = (float)rng.Uniform(0.35, 0.8),
            },
            SceneKind.Grass => new Background
            {
                Kind = kind, Size = size, Seed = seed, SkyTop = skyTop, SkyBottom = skyBottom,
                Horizon = size * (float)rng.Uniform(0.1, 0.45),
                Ground = (rng.Bernoulli(0.75) ? V(0.26f, 0.50f, 0.16f) : V(0.52f, 0.55f, 0.22f)) * J(0.15f),
                Ground2 = V(0.42f, 0.33f, 0.2f),
            },
            SceneKind.Road => new Background
            {
                Kind = kind, Size = size, Seed = seed, SkyTop = skyTop, SkyBottom = skyBottom,
                Horizon = size * (float)rng.Uniform(0.18, 0.42),
                Ground = V(0.33f, 0.33f, 0.34f) * J(0.2f), Ground2 = V(0.62f, 0.6f, 0.56f) * J(0.1f),
            },
            _ => new Background
            {
                Kind = kind, Size = size, Seed = seed,
                // wall: pastel, table: wood
                SkyTop = Pastel(rng), SkyBottom = Pastel(rng),
                Horizon = size * (float)rng.Uniform(0.3, 0.62),
                Ground = (rng.Bernoulli(0.6) ? V(0.50f, 0.32f, 0.18f) : V(0.72f, 0.58f, 0.40f)) * J(0.12f),
                Ground2 = V(0.30f, 0.18f, 0.10f), GrainFreq = (float)rng.Uniform(0.15, 0.4), Stripes = rng.Bernoulli(0.4),
            },
        };
        b.Cloudiness = (float)rng.Uniform(0.0, 0.8);
        return b;
    }

    static Vector3 Pastel(PhiloxRandom rng)
    {
        var c = new Vector3((float)rng.Uniform(0.55, 0.92), (float)rng.Uniform(0.55, 0.92), (float)rng.Uniform(0.5, 0.9));
        return c;
    }

    public void Paint(Canvas c)
    {
        uint s = Seed;
        float hz = Horizon, n = Size;
        c.Fill((x, y) =>
        {
            float fy = y + 0.5f;
            if (fy < hz || Kind == SceneKind.Sky && fy < hz)
                return Kind == SceneKind.Indoor ? Wall(x, y, s) : Sky(x, y, s);
            float depth = (fy - hz) / MathF.Max(1, n - hz);   // 0 at the horizon, 1 at the bottom
            return Kind switch
            {
                SceneKind.Water => Water(x, y, depth, s),
                SceneKind.Grass or SceneKind.Sky => Grass(x, y, depth, s),
                SceneKind.Road => Road(x, y, depth, s),
                _ => Table(x, y, depth, s),
            };
        });
    }

    Vector3 Sky(int x, int y, uint s)
    {
        float t = Math.Clamp((y + 0.5f) / MathF.Max(8, MathF.Min(Horizon, Size)), 0, 1);
        var c = Vector3.Lerp(SkyTop, SkyBottom, t);
        float k = 3.5f / Size;
        float cloud = Noise.Fbm(x * k + 7.3f, y * k * 1.8f, s + 11, 5);
        float a = Math.Clamp((cloud - (0.62f - 0.2f * Cloudiness)) * 4f, 0, 1);
        var white = new Vector3(0.96f, 0.96f, 0.97f) * (0.85f + 0.15f * Noise.Value(x * 0.2f, y * 0.2f, s + 3));
        return Vector3.Lerp(c, white, a * 0.9f);
    }

    Vector3 Wall(int x, int y, uint s)
    {
        var c = SkyTop * (0.94f + 0.08f * Noise.Fbm(x * 0.08f, y * 0.08f, s + 21, 3));
        if (Stripes && ((int)MathF.Floor(x / (Size / 10f)) & 1) == 0) c = Vector3.Lerp(c, SkyBottom, 0.6f);
        return c;
    }

    Vector3 Water(int x, int y, float depth, uint s)
    {
        float f = WaveFreq * (1.6f - depth);          // waves get finer towards the horizon
        float w = MathF.Sin(y * f * 2.1f + 6 * Noise.Fbm(x * 0.05f, y * 0.11f, s + 31, 3));
        float glint = MathF.Max(0, w - 0.75f) * 3.5f * Noise.Value(x * 0.3f, y * 0.6f, s + 33);
        var c = Vector3.Lerp(Ground * 1.35f, Ground * 0.8f, depth) * (0.88f + 0.14f * w);
        return Vector3.Lerp(c, Ground2, Math.Clamp(glint, 0, 1));
    }

    Vector3 Grass(int x, int y, float depth, uint s)
    {
        float blades = Noise.Value(x * 0.9f, y * 0.22f, s + 41);
        float patch = Noise.Fbm(x * 0.045f, y * 0.07f, s + 43, 4);
        var c = Ground * (0.65f + 0.55f * patch) * (0.85f + 0.25f * blades) * (0.85f + 0.25f * depth);
        float dirt = Math.Clamp((Noise.Fbm(x * 0.03f, y * 0.05f, s + 47, 3) - 0.68f) * 6, 0, 1);
        return Vector3.Lerp(c, Ground2 * (0.8f + 0.3f * blades), dirt);
    }

    Vector3 Road(int x, int y, float depth, uint s)
    {
        // lower 70% asphalt, a kerb, then pavement towards the horizon
        var asphalt = Ground * (0.88f + 0.22f * Noise.Value(x * 0.7f, y * 0.7f, s + 51)) * (0.92f + 0.12f * Noise.Fbm(x * 0.05f, y * 0.05f, s + 52, 3));
        if (depth < 0.22f)
        {
            var pave = Ground2 * (0.9f + 0.1f * Noise.Value(x * 0.5f, y * 0.5f, s + 53));
            float tile = Size / 9f;
            if (MathF.Abs((x % tile) - tile / 2) > tile / 2 - 0.8f) pave *= 0.82f;
            return depth > 0.19f ? Ground2 * 0.7f : pave;
        }
        float lane = Horizon + (Size - Horizon) * 0.62f;
        if (MathF.Abs(y + 0.5f - lane) < Size / 80f + 0.6f && (x + (int)(s % 17)) % (Size / 4) < Size / 8)
            return new Vector3(0.9f, 0.88f, 0.75f) * (0.9f + 0.1f * Noise.Value(x, y, s + 54));
        return asphalt;
    }

    Vector3 Table(int x, int y, float depth, uint s)
    {
        float grain = MathF.Sin(x * GrainFreq + 9 * Noise.Fbm(x * 0.02f, y * 0.12f, s + 61, 3));
        var c = Vector3.Lerp(Ground, Ground2, 0.25f + 0.25f * grain) * (0.9f + 0.2f * depth);
        return depth < 0.04f ? c * 0.7f : c;
    }

    // ---- clutter --------------------------------------------------------------------------------------------

    /// <summary>Background objects: behind the objects (<paramref name="behind"/>) or in front of them.</summary>
    public IEnumerable<Placed> Distractors(PhiloxRandom rng, bool behind)
    {
        var list = new List<Placed>();
        float n = Size;
        int count = behind ? rng.NextInt(2, 7) : (rng.Bernoulli(0.35) ? 1 : 0);
        for (int i = 0; i < count; i++)
        {
            Placed? p = Kind switch
            {
                SceneKind.Sky => behind ? Clutter.Cloud(rng, n, Horizon) : Clutter.Cloud(rng, n, Horizon, front: true),
                SceneKind.Water => behind ? (rng.Bernoulli(0.5) ? Clutter.Buoy(rng, n, Horizon) : Clutter.Rock(rng, n, Horizon)) : Clutter.Foam(rng, n, Horizon),
                SceneKind.Grass => behind ? rng.NextInt(3) switch { 0 => Clutter.Bush(rng, n, Horizon), 1 => Clutter.Tree(rng, n, Horizon), _ => Clutter.Rock(rng, n, Horizon) }
                                          : (rng.Bernoulli(0.5) ? Clutter.Fence(rng, n, Horizon) : Clutter.Tuft(rng, n)),
                SceneKind.Road => behind ? rng.NextInt(3) switch { 0 => Clutter.Building(rng, n, Horizon), 1 => Clutter.Cone(rng, n, Horizon), _ => Clutter.Pole(rng, n, Horizon) }
                                         : Clutter.Pole(rng, n, Horizon, front: true),
                _ => behind ? rng.NextInt(3) switch { 0 => Clutter.Frame(rng, n, Horizon), 1 => Clutter.Cup(rng, n, Horizon), _ => Clutter.Book(rng, n, Horizon) }
                            : Clutter.Cup(rng, n, Horizon, front: true),
            };
            if (p is not null) list.Add(p);
        }
        return list;
    }
}
