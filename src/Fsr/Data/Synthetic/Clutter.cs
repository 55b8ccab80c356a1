using System.Numerics;
using static FsrNative.Data.Synthetic.Shading;

namespace FsrNative.Data.Synthetic;

/// <summary>Background objects (label 0): clutter behind the objects and occluders in front of them.</summary>
static class Clutter
{
    static float MinCircle((float x, float y, float r)[] blobs, float u, float v)
    {
        float d = float.PositiveInfinity;
        foreach (var b in blobs) d = MathF.Min(d, Sdf.Circle(u, v, b.x, b.y, b.r));
        return d;
    }

    static Placed At(float cx, float cy, float s, Part[] parts, float extent = 1.3f, float angle = 0) =>
        new() { Parts = parts, Cx = cx, Cy = cy, Scale = s, Extent = extent, Angle = angle };

    static float Below(PhiloxRandom rng, float n, float hz, float lo = 0.05f) =>
        hz >= n ? n * (float)rng.Uniform(0.85, 1.0) : (float)rng.Uniform(MathF.Min(hz + lo * n, n - 1), n);

    public static Placed Cloud(PhiloxRandom rng, float n, float hz, bool front = false)
    {
        var blobs = Enumerable.Range(0, rng.NextInt(3, 6)).Select(_ => (x: (float)rng.Uniform(-0.8, 0.8), y: (float)rng.Uniform(-0.25, 0.25), r: (float)rng.Uniform(0.25, 0.5))).ToArray();
        var col = Pick(rng, V(0.97f, 0.97f, 0.98f), V(0.85f, 0.86f, 0.88f), V(0.75f, 0.76f, 0.8f));
        var part = new Part((u, v) => MinCircle(blobs, u, v), Fluffy(col, rng.NextUInt()), front ? 0.9f : 0.95f);
        float s = n * (float)rng.Uniform(0.12, 0.3);
        return At((float)rng.Uniform(0, n), (float)rng.Uniform(0, MathF.Min(hz, n) * 0.9f), s, [part]);
    }

    public static Placed Rock(PhiloxRandom rng, float n, float hz)
    {
        var col = Jitter(Pick(rng, V(0.45f, 0.44f, 0.42f), V(0.55f, 0.5f, 0.45f), V(0.3f, 0.3f, 0.32f)), rng);
        float rx = (float)rng.Uniform(0.6, 1), ry = (float)rng.Uniform(0.35, 0.7);
        uint s = rng.NextUInt();
        var part = new Part((u, v) => Sdf.Ellipse(u, v, 0, 0, rx, ry) + 0.12f * (Noise.Value(u * 3, v * 3, s) - 0.5f), Rough(col, s));
        return At((float)rng.Uniform(0, n), Below(rng, n, hz), n * (float)rng.Uniform(0.04, 0.1), [part]);
    }

    public static Placed Buoy(PhiloxRandom rng, float n, float hz)
    {
        uint s = rng.NextUInt();
        var red = Pick(rng, V(0.8f, 0.15f, 0.1f), V(0.95f, 0.5f, 0.1f), V(0.9f, 0.85f, 0.2f));
        Part[] parts =
        [
            new((u, v) => Sdf.Circle(u, v, 0, 0.2f, 0.6f), Stripes(red, V(0.92f, 0.92f, 0.9f), 2.2f, s)),
            new((u, v) => Sdf.Box(u, v, 0, -0.55f, 0.08f, 0.3f), Solid(V(0.3f, 0.3f, 0.3f), s)),
        ];
        return At((float)rng.Uniform(0, n), Below(rng, n, hz), n * (float)rng.Uniform(0.03, 0.07), parts);
    }

    /// <summary>A band of foam across the water (an occluder when drawn in front).</summary>
    public static Placed Foam(PhiloxRandom rng, float n, float hz)
    {
        float ph = (float)rng.Uniform(0, 6.28), amp = (float)rng.Uniform(0.02, 0.06), th = (float)rng.Uniform(0.02, 0.05);
        var part = new Part((u, v) => MathF.Abs(v - amp * MathF.Sin(u * 9 + ph)) - th, Fluffy(V(0.88f, 0.92f, 0.95f), rng.NextUInt()), 0.95f);
        return At(n / 2, Below(rng, n, hz, 0.15f), n * 0.72f, [part], extent: 1.0f);
    }

    public static Placed Bush(PhiloxRandom rng, float n, float hz)
    {
        var blobs = Enumerable.Range(0, rng.NextInt(3, 6)).Select(_ => (x: (float)rng.Uniform(-0.7, 0.7), y: (float)rng.Uniform(-0.3, 0.3), r: (float)rng.Uniform(0.3, 0.55))).ToArray();
        var col = Jitter(Pick(rng, V(0.15f, 0.32f, 0.1f), V(0.2f, 0.38f, 0.15f), V(0.3f, 0.35f, 0.12f)), rng);
        uint s = rng.NextUInt();
        var part = new Part((u, v) => MinCircle(blobs, u, v) + 0.08f * (Noise.Value(u * 6, v * 6, s) - 0.5f), Rough(col, s, 0.6f));
        float sc = n * (float)rng.Uniform(0.08, 0.2);
        return At((float)rng.Uniform(0, n), MathF.Min(hz, n) + sc * 0.2f, sc, [part]);
    }

    public static Placed Tree(PhiloxRandom rng, float n, float hz)
    {
        uint s = rng.NextUInt();
        var leaf = Jitter(V(0.16f, 0.34f, 0.12f), rng);
        Part[] parts =
        [
            new((u, v) => Sdf.Box(u, v, 0, 0.5f, 0.09f, 0.5f), Rough(V(0.35f, 0.24f, 0.14f), s)),
            new((u, v) => Sdf.Ellipse(u, v, 0, -0.35f, 0.6f, 0.65f) + 0.1f * (Noise.Value(u * 5, v * 5, s) - 0.5f), Rough(leaf, s + 1, 0.6f)),
        ];
        float sc = n * (float)rng.Uniform(0.1, 0.25);
        return At((float)rng.Uniform(0, n), MathF.Min(hz, n) - sc * 0.8f, sc, parts);
    }

    /// <summary>Posts and rails across the lower part of the image (an occluder).</summary>
    public static Placed Fence(PhiloxRandom rng, float n, float hz)
    {
        var wood = Jitter(Pick(rng, V(0.45f, 0.32f, 0.2f), V(0.75f, 0.72f, 0.68f)), rng);
        float gap = (float)rng.Uniform(0.35, 0.6);
        uint s = rng.NextUInt();
        Part[] parts =
        [
            new((u, v) => MathF.Max(MathF.Abs(u - gap * MathF.Round(u / gap)) - 0.035f, MathF.Abs(v) - 0.25f), Solid(wood, s)),
            new((u, v) => MathF.Min(MathF.Abs(v + 0.12f), MathF.Abs(v - 0.1f)) - 0.025f, Solid(wood * 0.9f, s)),
        ];
        return At(n / 2, (float)rng.Uniform(MathF.Max(hz, n * 0.55f), n * 1.02f), n * 0.7f, parts, extent: 1.0f);
    }

    /// <summary>Grass blades at the bottom edge (an occluder).</summary>
    public static Placed Tuft(PhiloxRandom rng, float n)
    {
        uint s = rng.NextUInt();
        var col = Jitter(V(0.25f, 0.48f, 0.14f), rng);
        var part = new Part((u, v) =>
        {
            float h = 0.25f + 0.35f * Noise.Value(u * 14, 0.5f, s);
            return MathF.Max(-(v + h - 0.1f * MathF.Abs(MathF.Sin(u * 40))), v - 0.5f);
        }, Rough(col, s, 0.5f));
        return At((float)rng.Uniform(0.2, 0.8) * n, n, n * (float)rng.Uniform(0.2, 0.35), [part], extent: 1.0f);
    }

    public static Placed Building(PhiloxRandom rng, float n, float hz)
    {
        var wall = Jitter(Pick(rng, V(0.62f, 0.56f, 0.5f), V(0.55f, 0.3f, 0.25f), V(0.7f, 0.7f, 0.68f)), rng);
        float hx = (float)rng.Uniform(0.4, 0.9), hy = (float)rng.Uniform(0.5, 1.0);
        uint s = rng.NextUInt();
        Shader shade = (in ShadePoint p) =>
        {
            float wx = p.U * 4.5f, wy = p.V * 4.5f;
            bool window = wx - MathF.Floor(wx) is > 0.3f and < 0.75f && wy - MathF.Floor(wy) is > 0.3f and < 0.8f;
            return window ? V(0.2f, 0.25f, 0.32f) * (0.8f + 0.4f * Noise.Hash01((int)MathF.Floor(wx), (int)MathF.Floor(wy), s)) : Lit(wall, p, s, 0.08f, 0f, 0.1f);
        };
        float sc = n * (float)rng.Uniform(0.12, 0.25);
        return At((float)rng.Uniform(0, n), MathF.Min(hz, n) - hy * sc, sc, [new((u, v) => Sdf.Box(u, v, 0, 0, hx, hy), shade)], extent: 1.1f);
    }

    public static Placed Cone(PhiloxRandom rng, float n, float hz)
    {
        uint s = rng.NextUInt();
        Vector2[] tri = [new(0, -0.8f), new(0.45f, 0.6f), new(-0.45f, 0.6f)];
        Part[] parts =
        [
            new((u, v) => Sdf.Convex(u, v, tri), Stripes(V(0.95f, 0.45f, 0.08f), V(0.95f, 0.95f, 0.95f), 2.5f, s, duty: 0.65f)),
            new((u, v) => Sdf.Box(u, v, 0, 0.65f, 0.6f, 0.08f), Solid(V(0.2f, 0.2f, 0.2f), s)),
        ];
        float sc = n * (float)rng.Uniform(0.04, 0.08);
        return At((float)rng.Uniform(0, n), Below(rng, n, hz) - sc * 0.6f, sc, parts);
    }

    public static Placed Pole(PhiloxRandom rng, float n, float hz, bool front = false)
    {
        uint s = rng.NextUInt();
        var col = Pick(rng, V(0.4f, 0.42f, 0.45f), V(0.25f, 0.3f, 0.25f), V(0.5f, 0.38f, 0.25f));
        float w = front ? (float)rng.Uniform(0.02, 0.05) : 0.03f;
        Part[] parts =
        [
            new((u, v) => Sdf.Box(u, v, 0, 0, w, 1.0f), Solid(col, s, 0.05f, 0, 0.4f)),
            new((u, v) => Sdf.Box(u, v, 0.08f, -0.98f, 0.12f, 0.03f, 0.01f), Solid(col * 0.8f, s)),
        ];
        float sc = front ? n * 0.6f : n * (float)rng.Uniform(0.2, 0.4);
        float cy = front ? n * (float)rng.Uniform(0.4, 0.6) : MathF.Min(hz, n) + n * 0.05f - sc;
        return At((float)rng.Uniform(0.05, 0.95) * n, cy, sc, parts, extent: 1.05f, angle: (float)rng.Uniform(-0.05, 0.05));
    }

    public static Placed Frame(PhiloxRandom rng, float n, float hz)
    {
        uint s = rng.NextUInt();
        var frame = Pick(rng, V(0.35f, 0.22f, 0.12f), V(0.8f, 0.7f, 0.35f), V(0.15f, 0.15f, 0.15f));
        var a = V((float)rng.Uniform(0.1, 0.9), (float)rng.Uniform(0.1, 0.9), (float)rng.Uniform(0.1, 0.9));
        float hx = (float)rng.Uniform(0.5, 0.9), hy = (float)rng.Uniform(0.5, 0.9);
        Part[] parts =
        [
            new((u, v) => Sdf.Box(u, v, 0, 0, hx, hy), Solid(frame, s)),
            new((u, v) => Sdf.Box(u, v, 0, 0, hx - 0.12f, hy - 0.12f), (in ShadePoint p) => a * (0.5f + Noise.Fbm(p.U * 2, p.V * 2, s, 3))),
        ];
        float sc = n * (float)rng.Uniform(0.08, 0.18);
        return At((float)rng.Uniform(0, n), (float)rng.Uniform(0.1, 0.8) * MathF.Min(hz, n), sc, parts);
    }

    /// <summary>A cup or mug: a short cylinder with a handle (bottle-like colours, a different shape).</summary>
    public static Placed Cup(PhiloxRandom rng, float n, float hz, bool front = false)
    {
        uint s = rng.NextUInt();
        var col = Jitter(Pick(rng, V(0.92f, 0.92f, 0.9f), V(0.2f, 0.45f, 0.25f), V(0.45f, 0.25f, 0.1f), V(0.7f, 0.15f, 0.15f), V(0.2f, 0.3f, 0.6f)), rng);
        Part[] parts =
        [
            new((u, v) => Sdf.Box(u, v, 0, 0.1f, 0.42f, 0.55f, 0.08f), Solid(col, s, 0.04f, 0.05f, 0.4f)),
            new((u, v) => MathF.Abs(Sdf.Ellipse(u, v, 0.5f, 0.05f, 0.22f, 0.25f)) - 0.06f, Solid(col * 0.9f, s)),
        ];
        float sc = n * (front ? (float)rng.Uniform(0.1, 0.16) : (float)rng.Uniform(0.05, 0.1));
        float baseY = front ? n * (float)rng.Uniform(0.9, 1.05) : MathF.Min((float)rng.Uniform(hz + 0.04f * n, hz + 0.2f * n), n);
        return At((float)rng.Uniform(0.05, 0.95) * n, baseY - 0.65f * sc, sc, parts);
    }

    public static Placed Book(PhiloxRandom rng, float n, float hz)
    {
        uint s = rng.NextUInt();
        var col = V((float)rng.Uniform(0.1, 0.85), (float)rng.Uniform(0.1, 0.85), (float)rng.Uniform(0.1, 0.85));
        float hx = (float)rng.Uniform(0.5, 0.9), hy = (float)rng.Uniform(0.15, 0.35);
        Part[] parts = [new((u, v) => Sdf.Box(u, v, 0, 0, hx, hy, 0.03f), Stripes(col, V(0.92f, 0.9f, 0.85f), 6, s, alongU: false, duty: 0.8f))];
        float sc = n * (float)rng.Uniform(0.06, 0.12);
        return At((float)rng.Uniform(0, n), MathF.Min((float)rng.Uniform(hz + 0.03f * n, hz + 0.15f * n), n) - hy * sc, sc, parts);
    }
}
