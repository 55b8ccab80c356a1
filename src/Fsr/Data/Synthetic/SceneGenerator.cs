using System.Numerics;

namespace FsrNative.Data.Synthetic;

/// <summary>The kinds of backgrounds; each foreground class has a typical one (the co-occurrence bias).</summary>
public enum SceneKind { Sky, Water, Grass, Road, Indoor }

/// <summary>One rendered synthetic image: RGB bytes (HWC), the label mask (with the ignore band) and what is in it.</summary>
public sealed record SyntheticImage(int Size, byte[] Rgb, byte[] Mask, SceneKind Scene, int[] ObjectClasses)
{
    /// <summary>Image-level labels (length C) derived from the mask, exactly as the dataset reader derives them.</summary>
    public float[] Labels => SyntheticDataset.Classes.LabelsFromMask(Mask);
}

/// <summary>
/// Renders one synthetic WSSS scene from a Philox stream: a textured background of a scene kind, clutter
/// (distractors of the background class), 1–3 objects of 6 classes that differ in shape and in colour/texture
/// statistics that partly overlap, placed at varied scale/rotation/position with mutual occlusion and occluders in
/// front, then global lighting, sensor noise and an ignore band (255) along every object boundary.
/// All drawing is anti-aliased signed-distance rendering done here (no drawing library).
/// </summary>
static class SceneGenerator
{
    // class indices (mask values): 1 aeroplane, 2 boat, 3 car, 4 cow, 5 person, 6 bottle
    const int Plane = 1, Boat = 2, Car = 3, Cow = 4, Person = 5, Bottle = 6;

    static readonly double[] PrimaryWeights = [0.16, 0.16, 0.17, 0.16, 0.20, 0.15];

    /// <summary>P(scene | primary class): each class mostly appears on its typical background.</summary>
    static readonly double[][] SceneGivenClass =
    [
        //            Sky   Water Grass Road  Indoor
        /* plane  */ [0.76, 0.04, 0.12, 0.08, 0.00],
        /* boat   */ [0.00, 0.86, 0.06, 0.08, 0.00],
        /* car    */ [0.00, 0.00, 0.24, 0.76, 0.00],
        /* cow    */ [0.00, 0.04, 0.86, 0.10, 0.00],
        /* person */ [0.04, 0.14, 0.28, 0.28, 0.26],
        /* bottle */ [0.00, 0.03, 0.08, 0.04, 0.85],
    ];

    /// <summary>Which classes join a scene as extra objects (besides repeats of the primary and companions).</summary>
    static readonly double[][] ClassGivenScene =
    [
        //              plane boat car  cow  person bottle
        /* Sky    */ [0.70, 0.00, 0.00, 0.00, 0.30, 0.00],
        /* Water  */ [0.05, 0.65, 0.00, 0.00, 0.30, 0.00],
        /* Grass  */ [0.05, 0.00, 0.20, 0.40, 0.30, 0.05],
        /* Road   */ [0.00, 0.05, 0.55, 0.05, 0.35, 0.00],
        /* Indoor */ [0.00, 0.00, 0.00, 0.00, 0.45, 0.55],
    ];

    public static SyntheticImage Render(PhiloxRandom rng, int size)
    {
        int primary = 1 + rng.Choose(PrimaryWeights);
        var scene = (SceneKind)rng.Choose(SceneGivenClass[primary - 1]);
        int n = rng.Choose([0.45, 0.35, 0.20]) + 1;
        var classes = new List<int> { primary };
        for (int k = 1; k < n; k++)
        {
            double u = rng.NextDouble();
            int c;
            if (u < 0.35) c = primary;
            else if (u < 0.65 && primary != Person && scene != SceneKind.Sky) c = Person;
            else c = 1 + rng.Choose(ClassGivenScene[(int)scene]);
            classes.Add(c);
        }
        uint texSeed = rng.NextUInt();
        var bg = Background.Create(scene, rng, size, texSeed);
        // Whatever stands on the ground needs ground: a sky scene with such objects gets a horizon in the picture.
        if (scene == SceneKind.Sky && classes.Any(c => c != Plane))
            bg.Horizon = MathF.Min(bg.Horizon, size * (float)rng.Uniform(0.55, 0.8));
        var painted = new Canvas(size, size);
        bg.Paint(painted);

        for (int attempt = 0; ; attempt++)
        {
            // On repeated failure, drop the last object: a layout with fewer objects always fits eventually.
            if (attempt > 0 && attempt % 6 == 0 && classes.Count > 1) classes.RemoveAt(classes.Count - 1);
            var result = TryLayout(rng, size, scene, bg, painted, classes, texSeed);
            if (result is not null) return result;
            if (attempt > 40) throw new InvalidOperationException("synthetic scene: no valid layout (generator bug)");
        }
    }

    static SyntheticImage? TryLayout(PhiloxRandom rng, int size, SceneKind scene, Background bg, Canvas painted, List<int> classes, uint texSeed)
    {
        var canvas = new Canvas(size, size);
        painted.Rgb.CopyTo(canvas.Rgb, 0);
        foreach (var d in bg.Distractors(rng, behind: true)) canvas.Draw(d);

        var objects = new List<Placed>();
        for (int i = 0; i < classes.Count; i++)
        {
            var o = Objects.Make(classes[i], rng, size, bg, i == 0);
            o.Instance = i + 1;
            o.Label = (byte)classes[i];
            objects.Add(o);
        }
        // Far objects first (painter's order by the base line), so nearer ones occlude them.
        objects.Sort((a, b) => (a.Cy + a.Scale).CompareTo(b.Cy + b.Scale));
        var areas = new int[classes.Count + 1];
        foreach (var o in objects)
        {
            areas[o.Instance] = canvas.Draw(o);
            foreach (var occ in Objects.AttachedOccluders(o, rng, bg)) canvas.Draw(occ);
        }
        foreach (var d in bg.Distractors(rng, behind: false)) canvas.Draw(d);

        // Every object must stay recognisable: enough of it visible after occlusion and truncation.
        var visible = new int[classes.Count + 1];
        foreach (int id in canvas.Inst) visible[id]++;
        int minPixels = Math.Max(24, size * size / 90);
        foreach (var o in objects)
            if (visible[o.Instance] < minPixels || visible[o.Instance] < 0.4 * areas[o.Instance]) return null;

        Finish(canvas, rng, texSeed);
        var rgb = new byte[size * size * 3];
        for (int i = 0; i < canvas.Rgb.Length; i++)
        {
            var c = Vector3.Clamp(canvas.Rgb[i], Vector3.Zero, Vector3.One) * 255f + new Vector3(0.5f);
            rgb[3 * i] = (byte)c.X; rgb[3 * i + 1] = (byte)c.Y; rgb[3 * i + 2] = (byte)c.Z;
        }
        var mask = IgnoreBand(canvas, Math.Max(1, size / 64));
        var present = objects.Select(o => (int)o.Label).Distinct().Order().ToArray();
        // The band may swallow a sliver; the labels are derived from the mask, so a class must keep labelled pixels.
        foreach (int c in present)
            if (Array.IndexOf(mask, (byte)c) < 0) return null;
        return new SyntheticImage(size, rgb, mask, scene, objects.Select(o => (int)o.Label).ToArray());
    }

    /// <summary>Global photometric variation: exposure, colour cast, vignetting and sensor noise.</summary>
    static void Finish(Canvas c, PhiloxRandom rng, uint seed)
    {
        float gain = (float)rng.Uniform(0.82, 1.12);
        var cast = new Vector3(1 + (float)rng.Normal() * 0.04f, 1 + (float)rng.Normal() * 0.03f, 1 + (float)rng.Normal() * 0.04f) * gain;
        float vign = (float)rng.Uniform(0, 0.25), noise = (float)rng.Uniform(0.008, 0.03);
        float half = c.W / 2f;
        for (int y = 0; y < c.H; y++)
            for (int x = 0; x < c.W; x++)
            {
                float dx = (x + 0.5f - half) / half, dy = (y + 0.5f - half) / half;
                float v = 1 - vign * (dx * dx + dy * dy) * 0.5f;
                var n = new Vector3(Noise.Hash01(x, y, seed ^ 0x51u) - 0.5f, Noise.Hash01(x, y, seed ^ 0x52u) - 0.5f, Noise.Hash01(x, y, seed ^ 0x53u) - 0.5f);
                c.Rgb[y * c.W + x] = c.Rgb[y * c.W + x] * cast * v + n * (noise * 2);
            }
    }

    /// <summary>Labels with 255 on every pixel within <paramref name="r"/> (Chebyshev) of a pixel of another instance,
    /// where at least one of the two is an object: the VOC-style void band along object outlines.</summary>
    static byte[] IgnoreBand(Canvas c, int r)
    {
        var mask = (byte[])c.Label.Clone();
        for (int y = 0; y < c.H; y++)
            for (int x = 0; x < c.W; x++)
            {
                int id = c.Inst[y * c.W + x];
                bool edge = false;
                for (int yy = Math.Max(0, y - r); yy <= Math.Min(c.H - 1, y + r) && !edge; yy++)
                    for (int xx = Math.Max(0, x - r); xx <= Math.Min(c.W - 1, x + r); xx++)
                    {
                        int o = c.Inst[yy * c.W + xx];
                        if (o != id) { edge = true; break; }
                    }
                if (edge) mask[y * c.W + x] = ClassSet.Ignore;
            }
        return mask;
    }
}
