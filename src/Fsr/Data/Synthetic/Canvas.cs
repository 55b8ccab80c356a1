using System.Numerics;

namespace FsrNative.Data.Synthetic;

/// <summary>Cheap deterministic lattice noise for textures (integer hash, smooth value noise, fBm).</summary>
static class Noise
{
    public static uint Hash(int x, int y, uint seed)
    {
        uint h = (uint)x * 0x8DA6B343u ^ (uint)y * 0xD8163841u ^ seed * 0xCB1AB31Fu;
        h ^= h >> 15; h *= 0x2C1B3C6Du; h ^= h >> 12; h *= 0x297A2D39u; h ^= h >> 15;
        return h;
    }

    public static float Hash01(int x, int y, uint seed) => (Hash(x, y, seed) >> 8) * (1f / 16777216f);

    /// <summary>Value noise in [0, 1], smooth (quintic fade), lattice spacing 1.</summary>
    public static float Value(float x, float y, uint seed)
    {
        float fx = MathF.Floor(x), fy = MathF.Floor(y);
        int xi = (int)fx, yi = (int)fy;
        float tx = x - fx, ty = y - fy;
        tx = tx * tx * tx * (tx * (tx * 6 - 15) + 10);
        ty = ty * ty * ty * (ty * (ty * 6 - 15) + 10);
        float a = Hash01(xi, yi, seed), b = Hash01(xi + 1, yi, seed), c = Hash01(xi, yi + 1, seed), d = Hash01(xi + 1, yi + 1, seed);
        return a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty;
    }

    /// <summary>Fractal sum of value noise, normalised to [0, 1].</summary>
    public static float Fbm(float x, float y, uint seed, int octaves = 4)
    {
        float sum = 0, amp = 1, norm = 0;
        for (int o = 0; o < octaves; o++)
        {
            sum += amp * Value(x, y, seed + (uint)o * 1013u);
            norm += amp;
            amp *= 0.5f; x *= 2.03f; y *= 2.03f;
        }
        return sum / norm;
    }
}

/// <summary>Signed distance functions in an object's local units (negative inside).</summary>
static class Sdf
{
    public static float Circle(float x, float y, float cx, float cy, float r) => MathF.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) - r;

    /// <summary>Approximate ellipse distance (Quílez): good near the boundary, which is all anti-aliasing needs.</summary>
    public static float Ellipse(float x, float y, float cx, float cy, float rx, float ry)
    {
        float px = (x - cx) / rx, py = (y - cy) / ry;
        float k0 = MathF.Sqrt(px * px + py * py);
        float qx = px / rx, qy = py / ry;
        float k1 = MathF.Sqrt(qx * qx + qy * qy);
        return k1 < 1e-6f ? -MathF.Min(rx, ry) : k0 * (k0 - 1) / k1;
    }

    public static float Box(float x, float y, float cx, float cy, float hx, float hy, float round = 0)
    {
        float dx = MathF.Abs(x - cx) - hx + round, dy = MathF.Abs(y - cy) - hy + round;
        float ox = MathF.Max(dx, 0), oy = MathF.Max(dy, 0);
        return MathF.Sqrt(ox * ox + oy * oy) + MathF.Min(MathF.Max(dx, dy), 0) - round;
    }

    public static float Capsule(float x, float y, float ax, float ay, float bx, float by, float r)
    {
        float px = x - ax, py = y - ay, vx = bx - ax, vy = by - ay;
        float h = Math.Clamp((px * vx + py * vy) / (vx * vx + vy * vy), 0, 1);
        float dx = px - vx * h, dy = py - vy * h;
        return MathF.Sqrt(dx * dx + dy * dy) - r;
    }

    /// <summary>Convex polygon (vertices in order, either orientation): the largest signed distance to an edge line.</summary>
    public static float Convex(float x, float y, ReadOnlySpan<Vector2> v)
    {
        float area = 0;
        for (int i = 0; i < v.Length; i++) { var a = v[i]; var b = v[(i + 1) % v.Length]; area += a.X * b.Y - b.X * a.Y; }
        float sign = area > 0 ? 1 : -1;
        float d = float.NegativeInfinity;
        for (int i = 0; i < v.Length; i++)
        {
            var a = v[i]; var b = v[(i + 1) % v.Length];
            float ex = b.X - a.X, ey = b.Y - a.Y, len = MathF.Sqrt(ex * ex + ey * ey);
            // outward normal of a counter-clockwise (area > 0) edge is (ey, -ex)
            float s = sign * ((x - a.X) * ey - (y - a.Y) * ex) / len;
            d = MathF.Max(d, s);
        }
        return d;
    }
}

/// <summary>Where a shader is evaluated: object-local coordinates, pixel coordinates, distance to the part's edge in pixels (negative inside).</summary>
readonly record struct ShadePoint(float U, float V, float X, float Y, float D);

delegate Vector3 Shader(in ShadePoint p);

/// <summary>A part of an object: its outline (local units) and how its surface looks.</summary>
sealed record Part(Func<float, float, float> Sdf, Shader Shade, float Opacity = 1f, bool InSilhouette = true);

/// <summary>An object or distractor placed on the canvas.</summary>
sealed class Placed
{
    public required Part[] Parts;
    public float Cx, Cy, Scale, Angle;
    public bool Mirror;
    /// <summary>Half extent of the local bounding box (local units).</summary>
    public float Extent = 1.3f;
    public int Instance;   // 0 = background (distractor or occluder)
    public byte Label;     // 0 = background
}

/// <summary>An RGB float canvas with an instance-id map; anti-aliased drawing of SDF parts.</summary>
sealed class Canvas
{
    public readonly int W, H;
    public readonly Vector3[] Rgb;
    public readonly int[] Inst;
    public readonly byte[] Label;

    public Canvas(int w, int h) { W = w; H = h; Rgb = new Vector3[w * h]; Inst = new int[w * h]; Label = new byte[w * h]; }

    public void Fill(Func<int, int, Vector3> colour)
    {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) Rgb[y * W + x] = colour(x, y);
    }

    /// <summary>Draws an object; returns the number of pixels (centres) inside its silhouette on the canvas.</summary>
    public int Draw(Placed o)
    {
        float cos = MathF.Cos(o.Angle), sin = MathF.Sin(o.Angle);
        float r = o.Extent * o.Scale * 1.42f + 2;
        int x0 = Math.Max(0, (int)MathF.Floor(o.Cx - r)), x1 = Math.Min(W - 1, (int)MathF.Ceiling(o.Cx + r));
        int y0 = Math.Max(0, (int)MathF.Floor(o.Cy - r)), y1 = Math.Min(H - 1, (int)MathF.Ceiling(o.Cy + r));
        int inside = 0;
        float inv = 1f / o.Scale;
        Span<float> d = stackalloc float[o.Parts.Length];
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                float dx = x + 0.5f - o.Cx, dy = y + 0.5f - o.Cy;
                float u = (cos * dx + sin * dy) * inv, v = (-sin * dx + cos * dy) * inv;
                if (o.Mirror) u = -u;
                if (MathF.Abs(u) > o.Extent || MathF.Abs(v) > o.Extent) continue;
                float dmin = float.PositiveInfinity;
                for (int i = 0; i < o.Parts.Length; i++)
                {
                    d[i] = o.Parts[i].Sdf(u, v) * o.Scale;
                    if (o.Parts[i].InSilhouette) dmin = MathF.Min(dmin, d[i]);
                }
                int idx = y * W + x;
                var c = Rgb[idx];
                bool any = false;
                for (int i = 0; i < o.Parts.Length; i++)
                {
                    float a = Math.Clamp(0.5f - d[i], 0, 1) * o.Parts[i].Opacity;
                    if (a <= 0) continue;
                    any = true;
                    var s = o.Parts[i].Shade(new ShadePoint(u, v, x, y, d[i]));
                    c += (s - c) * a;
                }
                if (!any) continue;
                Rgb[idx] = c;
                if (dmin < 0)
                {
                    Inst[idx] = o.Instance;
                    Label[idx] = o.Label;
                    inside++;
                }
            }
        return inside;
    }
}
