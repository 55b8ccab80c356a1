using FsrNative.Nn;

namespace FsrNative.Optim;

/// <summary>
/// Exponential moving average of one module's parameters into another of the same architecture (a teacher
/// following a student): θ_t ← m·θ_t + (1 − m)·θ_s for every parameter pair, matched by name, in float with the
/// rounding of <c>θ_t.mul_(m).add_((1 − m)·θ_s)</c>. Buffers are copied (there are none in a ViT).
/// </summary>
public static class Ema
{
    /// <summary>Makes <paramref name="teacher"/> an exact copy of <paramref name="student"/> that gets no gradients.</summary>
    public static void copy_(Module teacher, Module student)
    {
        teacher.load_state_dict(student.state_dict());
        teacher.requires_grad_(false);
    }

    /// <summary>One EMA step with momentum <paramref name="momentum"/> (1 keeps the teacher unchanged).</summary>
    public static void update_(Module teacher, Module student, double momentum)
    {
        if (momentum is < 0 or > 1) throw new ArgumentException($"Ema.update_: momentum must be in [0, 1], got {momentum}");
        var t = teacher.named_parameters().ToList();
        var s = student.named_parameters().ToList();
        if (t.Count != s.Count || t.Zip(s).Any(z => z.First.name != z.Second.name || !Shape.SameShape(z.First.parameter.shape, z.Second.parameter.shape)))
            throw new ArgumentException($"Ema.update_: teacher ({teacher.GetType().Name}, {t.Count} parameters) and student ({student.GetType().Name}, {s.Count}) differ in names or shapes");
        float m = (float)momentum, oneMinus = (float)(1 - momentum);
        using var noGrad = torch.no_grad();
        for (int i = 0; i < t.Count; i++)
        {
            var tp = t[i].parameter;
            var sp = s[i].parameter;
            if (tp.device.IsCpu && sp.device.IsCpu && tp.DType == DType.Float32 && sp.DType == DType.Float32 && tp.is_contiguous() && sp.is_contiguous())
            {
                FusedLoop.Run(tp.numel(), (start, count) =>
                {
                    var td = tp.AsSpan().Slice(start, count);
                    var sd = sp.AsSpan().Slice(start, count);
                    Blend(td, sd, m, oneMinus);
                });
                tp.mark_modified_();
                continue;
            }
            using var scaled = sp.mul(oneMinus);
            tp.mul_(m).add_(scaled);
        }
        var tb = teacher.named_buffers().ToList();
        var sb = student.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buf) in tb)
            if (sb.TryGetValue(name, out var src)) buf.copy_(src);
    }

    static void Blend(Span<float> t, ReadOnlySpan<float> s, float m, float oneMinus)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var mv = new System.Numerics.Vector<float>(m);
            var ov = new System.Numerics.Vector<float>(oneMinus);
            int w = System.Numerics.Vector<float>.Count;
            var tv = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(t);
            var sv = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(s);
            for (int k = 0; k < tv.Length; k++) tv[k] = tv[k] * mv + sv[k] * ov;
            i = tv.Length * w;
        }
        for (; i < t.Length; i++) t[i] = t[i] * m + s[i] * oneMinus;
    }
}
