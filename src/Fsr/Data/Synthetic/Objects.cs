using System.Numerics;
using static FsrNative.Data.Synthetic.Shading;

namespace FsrNative.Data.Synthetic;

/// <summary>
/// The six foreground classes. Shapes in local units (y down; the object's base near v = +1); each part has its
/// own surface. Colours partly overlap across classes on purpose (silver planes and cars, white sails, planes,
/// cows and cups, brown boats, cows and bottles, green bottles and grass, blue cars and water).
/// </summary>
static class Objects
{
    const int Plane = 1, Boat = 2, Car = 3, Cow = 4, Person = 5, Bottle = 6;

    public static Placed Make(int cls, PhiloxRandom rng, int size, Background bg, bool primary)
    {
        float n = size;
        float s = n * (float)(primary ? rng.Uniform(0.17, 0.40) : rng.Uniform(0.12, 0.32));
        var parts = cls switch
        {
            Plane => Aeroplane(rng),
            Boat => BoatParts(rng),
            Car => CarParts(rng),
            Cow => CowParts(rng),
            Person => PersonParts(rng),
            _ => BottleParts(rng),
        };
        var o = new Placed { Parts = parts, Mirror = rng.Bernoulli(0.5), Extent = 1.3f };
        float hz = MathF.Min(bg.Horizon, n * 0.9f);
        if (cls == Plane)
        {
            o.Scale = s;
            o.Angle = (float)rng.Uniform(-0.8, 0.8);
            o.Cx = (float)rng.Uniform(0.12, 0.88) * n;
            float top = n * 0.12f, bottom = MathF.Max(top + 1, (bg.Kind == SceneKind.Sky ? n : hz) - 0.15f * s);
            o.Cy = (float)rng.Uniform(top, bottom);
            return o;
        }
        // Standing objects: the base line lies below the horizon, and nearer (lower) objects are larger.
        float baseV = cls switch { Boat => 0.55f, Car => 0.86f, Cow => 0.9f, Person => 1.05f, _ => 0.95f };
        float lo = bg.Kind == SceneKind.Indoor && cls == Bottle ? bg.Horizon + 0.04f * n : hz + 0.1f * n;
        float baseY = (float)rng.Uniform(MathF.Min(lo, n * 0.95f), n * 1.1f);
        float depth = Math.Clamp((baseY - hz) / MathF.Max(1, n - hz), 0, 1.2f);
        s *= 0.7f + 0.5f * depth;
        if (cls == Person) s *= 1.15f;
        o.Scale = s;
        o.Angle = (float)rng.Normal() * (cls switch { Bottle => 0.2f, Boat => 0.1f, Person => 0.1f, _ => 0.06f });
        o.Cx = (float)rng.Uniform(0.08, 0.92) * n;
        o.Cy = baseY - baseV * s;
        return o;
    }

    /// <summary>Background that hides part of an object: water over a hull's bottom, grass over hooves and feet.</summary>
    public static IEnumerable<Placed> AttachedOccluders(Placed o, PhiloxRandom rng, Background bg)
    {
        float line;
        Vector3 col;
        if (o.Label == Boat && bg.Kind == SceneKind.Water) { line = 0.6f; col = bg.Ground * 1.1f; }
        else if ((o.Label == Cow || o.Label == Person) && bg.Kind is SceneKind.Grass && rng.Bernoulli(0.6)) { line = o.Label == Cow ? 0.72f : 0.8f; col = bg.Ground * 0.9f; }
        else if (o.Label == Person && bg.Kind == SceneKind.Water && rng.Bernoulli(0.5)) { line = 0.3f; col = bg.Ground * 1.1f; }
        else yield break;
        line += (float)rng.Uniform(-0.06, 0.06);
        uint s = rng.NextUInt();
        float ph = (float)rng.Uniform(0, 6.28);
        var part = new Part((u, v) => MathF.Max(line + 0.04f * MathF.Sin(u * 11 + ph) - v, MathF.Abs(u) - 1.25f), Rough(col, s, 0.35f));
        yield return new Placed { Parts = [part], Cx = o.Cx, Cy = o.Cy, Scale = o.Scale, Angle = o.Angle, Mirror = o.Mirror, Extent = 1.3f };
    }

    // ---- aeroplane: top view, white/silver/grey with a coloured stripe -----------------------------------------

    static Part[] Aeroplane(PhiloxRandom rng)
    {
        uint s = rng.NextUInt();
        var body = Jitter(Pick(rng, V(0.93f, 0.93f, 0.94f), V(0.74f, 0.76f, 0.8f), V(0.6f, 0.62f, 0.65f), V(0.85f, 0.86f, 0.9f)), rng, 0.05f);
        var accent = Pick(rng, V(0.75f, 0.1f, 0.12f), V(0.1f, 0.2f, 0.65f), V(0.1f, 0.45f, 0.4f), V(0.95f, 0.6f, 0.1f));
        float sweep = (float)rng.Uniform(0.15, 0.45), span = (float)rng.Uniform(0.8, 1.05), fr = (float)rng.Uniform(0.1, 0.15);
        Vector2[] wingL = [new(0.2f, -0.08f), new(0.2f - sweep, -span), new(0.02f - sweep, -span), new(-0.2f, -0.08f)];
        Vector2[] wingR = [new(0.2f, 0.08f), new(0.2f - sweep, span), new(0.02f - sweep, span), new(-0.2f, 0.08f)];
        Vector2[] tailL = [new(-0.78f, -0.04f), new(-0.98f, -0.38f), new(-1.08f, -0.38f), new(-0.98f, -0.04f)];
        Vector2[] tailR = [new(-0.78f, 0.04f), new(-0.98f, 0.38f), new(-1.08f, 0.38f), new(-0.98f, 0.04f)];
        var wing = Solid(body * 0.93f, s, 0.04f, 0.05f, 0.2f);
        return
        [
            new((u, v) => Sdf.Convex(u, v, wingL), wing),
            new((u, v) => Sdf.Convex(u, v, wingR), wing),
            new((u, v) => MathF.Min(Sdf.Convex(u, v, tailL), Sdf.Convex(u, v, tailR)), wing),
            new((u, v) => MathF.Min(Sdf.Ellipse(u, v, -0.05f - sweep / 2, -0.45f, 0.14f, 0.06f), Sdf.Ellipse(u, v, -0.05f - sweep / 2, 0.45f, 0.14f, 0.06f)), Solid(V(0.3f, 0.3f, 0.33f), s)),
            new((u, v) => Sdf.Capsule(u, v, -1.02f, 0, 1.0f, 0, fr), (in ShadePoint p) =>
            {
                var c = MathF.Abs(p.V) < fr * 0.3f ? accent : body;
                return Lit(c, p, s, 0.04f, 0.05f, 0.45f);
            }),
            new((u, v) => Sdf.Ellipse(u, v, 0.88f, 0, 0.07f, fr * 0.6f), Solid(V(0.12f, 0.15f, 0.2f), s)),
        ];
    }

    // ---- boat: side view, hull (planks or paint) with a sail or a cabin ----------------------------------------

    static Part[] BoatParts(PhiloxRandom rng)
    {
        uint s = rng.NextUInt();
        var hull = Jitter(Pick(rng, V(0.92f, 0.92f, 0.9f), V(0.7f, 0.12f, 0.1f), V(0.1f, 0.15f, 0.42f), V(0.45f, 0.28f, 0.15f)), rng);
        bool planks = rng.Bernoulli(0.35);
        Vector2[] hullPoly = [new(-1.0f, 0.28f), new(1.08f, 0.22f), new(0.72f, 0.75f), new(-0.85f, 0.75f)];
        var parts = new List<Part>
        {
            new((u, v) => Sdf.Convex(u, v, hullPoly), planks ? Stripes(hull, hull * 0.8f, 9, s) : Stripes(hull, V(0.85f, 0.2f, 0.15f), 1, s, duty: 0.88f)),
        };
        if (rng.Bernoulli(0.65))
        {
            var sail = Jitter(Pick(rng, V(0.96f, 0.94f, 0.86f), V(0.96f, 0.94f, 0.86f), V(0.9f, 0.45f, 0.15f), V(0.25f, 0.35f, 0.7f)), rng, 0.04f);
            float top = (float)rng.Uniform(-1.25, -0.95);
            Vector2[] main = [new(0.04f, top), new(0.04f, 0.18f), new(0.8f, 0.18f)];
            Vector2[] jib = [new(-0.04f, top + 0.2f), new(-0.04f, 0.18f), new(-0.62f, 0.18f)];
            parts.Add(new((u, v) => Sdf.Box(u, v, 0, (top + 0.25f) / 2, 0.025f, (0.25f - top) / 2), Solid(V(0.35f, 0.3f, 0.25f), s)));
            parts.Add(new((u, v) => Sdf.Convex(u, v, main), Solid(sail, s, 0.03f, 0.1f, 0.15f)));
            if (rng.Bernoulli(0.6)) parts.Add(new((u, v) => Sdf.Convex(u, v, jib), Solid(sail * 0.95f, s, 0.03f, 0.1f, 0.15f)));
        }
        else
        {
            var cabin = Pick(rng, V(0.93f, 0.93f, 0.92f), V(0.8f, 0.78f, 0.7f));
            parts.Add(new((u, v) => Sdf.Box(u, v, -0.15f, 0.02f, 0.45f, 0.26f, 0.05f), Solid(cabin, s)));
            parts.Add(new((u, v) => MathF.Max(Sdf.Box(u, v, -0.15f, -0.02f, 0.38f, 0.08f), 0.06f - MathF.Abs(((u + 2) % 0.25f) - 0.125f) * 0.6f),
                Glass(V(0.15f, 0.2f, 0.3f), s)));
        }
        return parts.ToArray();
    }

    // ---- car: side view, saturated paint, dark windows, black wheels ------------------------------------------

    static Part[] CarParts(PhiloxRandom rng)
    {
        uint s = rng.NextUInt();
        var paint = Jitter(Pick(rng, V(0.75f, 0.08f, 0.08f), V(0.1f, 0.25f, 0.7f), V(0.95f, 0.8f, 0.1f), V(0.15f, 0.5f, 0.2f),
            V(0.75f, 0.76f, 0.78f), V(0.08f, 0.08f, 0.1f), V(0.92f, 0.92f, 0.92f)), rng, 0.06f);
        float roof = (float)rng.Uniform(-0.38, -0.2), cabFront = (float)rng.Uniform(0.3, 0.55);
        Vector2[] cabin = [new(-0.6f, 0.12f), new(cabFront + 0.1f, 0.12f), new(cabFront - 0.15f, roof), new(-0.45f, roof)];
        Vector2[] win1 = [new(-0.5f, 0.08f), new(-0.08f, 0.08f), new(-0.08f, roof + 0.07f), new(-0.4f, roof + 0.07f)];
        Vector2[] win2 = [new(0.0f, 0.08f), new(cabFront, 0.08f), new(cabFront - 0.19f, roof + 0.07f), new(0.0f, roof + 0.07f)];
        var tyre = V(0.06f, 0.06f, 0.07f);
        var paintShade = Solid(paint, s, 0.03f, 0.2f, 0.35f);
        return
        [
            new((u, v) => Sdf.Box(u, v, 0, 0.38f, 1.0f, 0.27f, 0.12f), paintShade),
            new((u, v) => Sdf.Convex(u, v, cabin), paintShade),
            new((u, v) => MathF.Min(Sdf.Convex(u, v, win1), Sdf.Convex(u, v, win2)), Glass(V(0.14f, 0.18f, 0.25f), s, 0.1f)),
            new((u, v) => MathF.Min(Sdf.Circle(u, v, -0.58f, 0.62f, 0.24f), Sdf.Circle(u, v, 0.6f, 0.62f, 0.24f)), Solid(tyre, s, 0.1f, 0, 0.2f)),
            new((u, v) => MathF.Min(Sdf.Circle(u, v, -0.58f, 0.62f, 0.1f), Sdf.Circle(u, v, 0.6f, 0.62f, 0.1f)), Solid(V(0.7f, 0.72f, 0.75f), s)),
            new((u, v) => Sdf.Ellipse(u, v, 0.96f, 0.3f, 0.05f, 0.06f), Solid(V(1f, 0.95f, 0.7f), s, 0, 0, 0)),
            new((u, v) => Sdf.Ellipse(u, v, -0.97f, 0.3f, 0.04f, 0.06f), Solid(V(0.85f, 0.1f, 0.1f), s, 0, 0, 0)),
        ];
    }

    // ---- cow: side view, Holstein patches, brown or black ------------------------------------------------------

    static Part[] CowParts(PhiloxRandom rng)
    {
        uint s = rng.NextUInt();
        int kind = rng.Choose([0.55, 0.3, 0.15]);
        Shader hide = kind switch
        {
            0 => Patches(V(0.93f, 0.92f, 0.88f), V(0.08f, 0.07f, 0.07f), 2.2f, (float)rng.Uniform(0.45, 0.58), s),
            1 => Patches(Jitter(V(0.52f, 0.3f, 0.15f), rng), V(0.9f, 0.85f, 0.8f), 2.0f, 0.68f, s),
            _ => Solid(V(0.12f, 0.1f, 0.09f), s, 0.1f),
        };
        float legX = (float)rng.Uniform(0.4, 0.55), headY = (float)rng.Uniform(-0.35, 0.0);
        var horn = V(0.85f, 0.8f, 0.65f);
        return
        [
            new((u, v) => MathF.Min(MathF.Min(Sdf.Capsule(u, v, -legX - 0.1f, 0.2f, -legX - 0.08f, 0.88f, 0.075f), Sdf.Capsule(u, v, -legX + 0.1f, 0.2f, -legX + 0.1f, 0.88f, 0.075f)),
                MathF.Min(Sdf.Capsule(u, v, legX - 0.1f, 0.2f, legX - 0.1f, 0.88f, 0.075f), Sdf.Capsule(u, v, legX + 0.1f, 0.2f, legX + 0.12f, 0.88f, 0.075f))), hide),
            new((u, v) => Sdf.Capsule(u, v, -0.75f, -0.15f, -0.88f, 0.45f, 0.03f), hide),
            new((u, v) => Sdf.Ellipse(u, v, 0, 0, 0.78f, 0.4f), hide),
            new((u, v) => Sdf.Capsule(u, v, 0.55f, -0.12f, 0.8f, headY, 0.17f), hide),
            new((u, v) => Sdf.Ellipse(u, v, 0.95f, headY + 0.05f, 0.2f, 0.15f), hide),
            new((u, v) => Sdf.Ellipse(u, v, 1.1f, headY + 0.1f, 0.08f, 0.08f), Solid(V(0.85f, 0.6f, 0.6f), s)),
            new((u, v) => Sdf.Capsule(u, v, 0.88f, headY - 0.12f, 0.82f, headY - 0.26f, 0.025f), Solid(horn, s)),
            new((u, v) => Sdf.Ellipse(u, v, -0.2f, 0.36f, 0.12f, 0.07f), Solid(V(0.9f, 0.65f, 0.65f), s)),
        ];
    }

    // ---- person: front view, skin tones, shirt and trousers in any colour -------------------------------------

    static Part[] PersonParts(PhiloxRandom rng)
    {
        uint s = rng.NextUInt();
        var skin = Jitter(Pick(rng, V(0.95f, 0.78f, 0.66f), V(0.82f, 0.6f, 0.45f), V(0.55f, 0.38f, 0.26f), V(0.36f, 0.24f, 0.17f)), rng, 0.05f);
        var hair = Pick(rng, V(0.1f, 0.07f, 0.05f), V(0.35f, 0.22f, 0.1f), V(0.8f, 0.65f, 0.35f), V(0.6f, 0.6f, 0.6f));
        var shirtA = V((float)rng.Uniform(0.05, 0.95), (float)rng.Uniform(0.05, 0.95), (float)rng.Uniform(0.05, 0.95));
        Shader shirt = rng.Bernoulli(0.3) ? Stripes(shirtA, V(0.95f, 0.95f, 0.95f), 9, s) : Solid(shirtA, s, 0.05f, 0.1f, 0.3f);
        var trousers = Jitter(Pick(rng, V(0.18f, 0.27f, 0.48f), V(0.1f, 0.1f, 0.12f), V(0.6f, 0.52f, 0.36f), V(0.35f, 0.35f, 0.38f)), rng);
        float armL = (float)rng.Uniform(-0.2, 0.6), armR = (float)rng.Uniform(-0.2, 0.6), stride = (float)rng.Uniform(0, 0.18);
        return
        [
            new((u, v) => MathF.Min(Sdf.Capsule(u, v, -0.12f, 0.12f, -0.13f - stride, 0.95f, 0.095f), Sdf.Capsule(u, v, 0.12f, 0.12f, 0.13f + stride, 0.95f, 0.095f)), Solid(trousers, s)),
            new((u, v) => MathF.Min(Sdf.Ellipse(u, v, -0.15f - stride, 1.0f, 0.12f, 0.05f), Sdf.Ellipse(u, v, 0.15f + stride, 1.0f, 0.12f, 0.05f)), Solid(V(0.12f, 0.1f, 0.08f), s)),
            new((u, v) => MathF.Min(Sdf.Capsule(u, v, -0.27f, -0.45f, -0.3f - 0.25f * armL, 0.12f - 0.1f * armL, 0.075f),
                Sdf.Capsule(u, v, 0.27f, -0.45f, 0.3f + 0.25f * armR, 0.12f - 0.1f * armR, 0.075f)), shirt),
            new((u, v) => MathF.Min(Sdf.Circle(u, v, -0.3f - 0.25f * armL, 0.16f - 0.1f * armL, 0.07f), Sdf.Circle(u, v, 0.3f + 0.25f * armR, 0.16f - 0.1f * armR, 0.07f)), Solid(skin, s)),
            new((u, v) => Sdf.Box(u, v, 0, -0.18f, 0.27f, 0.36f, 0.1f), shirt),
            new((u, v) => Sdf.Box(u, v, 0, -0.58f, 0.06f, 0.06f), Solid(skin * 0.9f, s)),
            new((u, v) => Sdf.Ellipse(u, v, 0, -0.76f, 0.15f, 0.18f), Solid(skin, s, 0.04f, 0.05f, 0.3f)),
            new((u, v) => MathF.Max(Sdf.Ellipse(u, v, 0, -0.8f, 0.165f, 0.18f), v + 0.8f), Solid(hair, s, 0.15f)),
        ];
    }

    // ---- bottle: front view, green/brown/clear glass, paper label, cap ----------------------------------------

    static Part[] BottleParts(PhiloxRandom rng)
    {
        uint s = rng.NextUInt();
        int kind = rng.Choose([0.4, 0.35, 0.25]);
        var tint = kind switch { 0 => V(0.1f, 0.42f, 0.18f), 1 => V(0.4f, 0.22f, 0.08f), _ => V(0.78f, 0.86f, 0.86f) };
        float opacity = kind == 2 ? 0.55f : 0.93f;
        var label = V((float)rng.Uniform(0.3, 1), (float)rng.Uniform(0.3, 1), (float)rng.Uniform(0.3, 1));
        var cap = Pick(rng, V(0.75f, 0.7f, 0.3f), V(0.7f, 0.1f, 0.1f), V(0.6f, 0.6f, 0.62f));
        float w = (float)rng.Uniform(0.24, 0.34), neck = (float)rng.Uniform(0.08, 0.12);
        return
        [
            new((u, v) => MathF.Min(Sdf.Box(u, v, 0, 0.28f, w, 0.68f, 0.1f), Sdf.Ellipse(u, v, 0, -0.38f, w, 0.24f)), Glass(tint, s, -w * 0.45f), opacity),
            new((u, v) => Sdf.Box(u, v, 0, -0.72f, neck, 0.28f, 0.03f), Glass(tint, s, -neck * 0.4f), opacity),
            new((u, v) => Sdf.Box(u, v, 0, -1.0f, neck + 0.015f, 0.06f, 0.01f), Solid(cap, s)),
            new((u, v) => Sdf.Box(u, v, 0, 0.3f, w - 0.005f, 0.22f), Stripes(label, label * 0.6f, 5, s, alongU: false, duty: 0.75f), InSilhouette: false),
        ];
    }
}
