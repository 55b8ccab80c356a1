using System.Numerics;

namespace FsrNative.Data.Synthetic;

/// <summary>Surface looks shared by objects and clutter.</summary>
static class Shading
{
    public static Vector3 V(float r, float g, float b) => new(r, g, b);

    /// <summary>Base colour lit from above, darkened towards the outline (a rounded look), with fine noise.</summary>
    public static Vector3 Lit(Vector3 col, in ShadePoint p, uint seed, float noise = 0.06f, float light = 0.12f, float rim = 0.3f)
    {
        float l = 1 - light * p.V;
        float e = 1 - rim * MathF.Exp(MathF.Min(p.D, 0) * 0.45f);
        float t = 1 + noise * (Noise.Value(p.X * 0.45f, p.Y * 0.45f, seed) - 0.5f) * 2;
        return col * (l * e * t);
    }

    public static Shader Solid(Vector3 col, uint seed, float noise = 0.06f, float light = 0.12f, float rim = 0.3f)
        => (in ShadePoint p) => Lit(col, p, seed, noise, light, rim);

    /// <summary>Two colours in stripes along local v (or u), e.g. hull planks, shirts, buoys.</summary>
    public static Shader Stripes(Vector3 a, Vector3 b, float freq, uint seed, bool alongU = false, float duty = 0.5f)
        => (in ShadePoint p) =>
        {
            float t = (alongU ? p.U : p.V) * freq;
            float f = t - MathF.Floor(t);
            return Lit(f < duty ? a : b, p, seed);
        };

    /// <summary>Irregular patches of <paramref name="b"/> on <paramref name="a"/> (cow hide, camouflage).</summary>
    public static Shader Patches(Vector3 a, Vector3 b, float scale, float threshold, uint seed)
        => (in ShadePoint p) =>
        {
            float n = Noise.Fbm(p.U * scale + 13.1f, p.V * scale + 7.7f, seed, 3);
            float m = Math.Clamp((n - threshold) * 12, 0, 1);
            return Lit(Vector3.Lerp(a, b, m), p, seed, 0.05f, 0.1f, 0.25f);
        };

    /// <summary>Glass: tinted, with a vertical highlight streak.</summary>
    public static Shader Glass(Vector3 tint, uint seed, float streakU = -0.12f)
        => (in ShadePoint p) =>
        {
            float h = MathF.Exp(-MathF.Pow((p.U - streakU) * 9, 2));
            return Lit(tint, p, seed, 0.03f, 0.05f, 0.35f) + new Vector3(0.5f) * h;
        };

    /// <summary>Fluffy white-grey (clouds, foam).</summary>
    public static Shader Fluffy(Vector3 col, uint seed)
        => (in ShadePoint p) => col * (0.82f + 0.2f * Noise.Fbm(p.X * 0.12f, p.Y * 0.12f, seed, 3));

    /// <summary>A rough surface (rocks, bark, bushes): strong multi-scale noise.</summary>
    public static Shader Rough(Vector3 col, uint seed, float amount = 0.45f)
        => (in ShadePoint p) => col * (1 - amount / 2 + amount * Noise.Fbm(p.X * 0.35f, p.Y * 0.35f, seed, 3)) * (1 - 0.12f * p.V);

    public static Vector3 Jitter(Vector3 c, PhiloxRandom rng, float a = 0.08f)
    {
        float g = 1 + (float)rng.Uniform(-a, a);
        return new Vector3(c.X * (1 + (float)rng.Uniform(-a, a) / 2), c.Y * (1 + (float)rng.Uniform(-a, a) / 2), c.Z * (1 + (float)rng.Uniform(-a, a) / 2)) * g;
    }

    public static T Pick<T>(PhiloxRandom rng, params T[] options) => options[rng.NextInt(options.Length)];
}
