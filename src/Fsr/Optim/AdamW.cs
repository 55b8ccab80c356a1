using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Optim;

/// <summary>
/// AdamW exactly as torch.optim.AdamW (PyTorch's single-tensor path), per parameter and step t:
/// <code>
/// θ ← θ·(1 − lr·λ)                              decoupled weight decay (skipped when λ = 0)
/// m ← lerp(m, g, 1 − β₁)                         = m + (1 − β₁)(g − m)
/// v ← v·β₂ + (1 − β₂)·g·g
/// θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)      (v → max(v̂, v) with amsgrad)
/// </code>
/// Scalars are formed in double and rounded to float once, and the float operations come in torch's order (its
/// vectorised lerp is a fused multiply-add), so the results agree with libtorch's to an ulp. PyTorch before
/// 2.0 (and TorchSharp's AdamW) wrote the first moment as m·β₁ + (1 − β₁)·g instead of the lerp, which rounds
/// differently in the last bit; <c>legacyFirstMoment</c> selects that form. On the CPU
/// backend the update is one fused pass over θ, g, m, v (Vector256, FMA, threaded for large tensors, no
/// allocation); on other devices it is composed of in-place ops.
/// </summary>
public sealed class AdamW : Optimizer
{
    readonly double _lr, _beta1, _beta2, _eps, _weightDecay;
    readonly bool _amsgrad, _maximize;

    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false, bool legacyFirstMoment = false)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, legacyFirstMoment) { }

    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false, bool legacyFirstMoment = false)
    {
        legacy_first_moment = legacyFirstMoment;
        if (lr < 0) throw new ArgumentException($"AdamW: invalid learning rate {lr}");
        if (eps < 0) throw new ArgumentException($"AdamW: invalid epsilon {eps}");
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentException($"AdamW: invalid betas ({beta1}, {beta2})");
        if (weight_decay < 0) throw new ArgumentException($"AdamW: invalid weight decay {weight_decay}");
        (_lr, _beta1, _beta2, _eps, _weightDecay, _amsgrad, _maximize) = (lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);
        AddGroups(groups);
    }

    /// <summary>m ← m·β₁ + (1 − β₁)·g (PyTorch &lt; 2.0, TorchSharp) instead of torch 2's lerp.</summary>
    public bool legacy_first_moment { get; }

    protected override void ApplyDefaults(ParamGroup group)
    {
        group.Default(lr: _lr, weight_decay: _weightDecay, beta1: _beta1, beta2: _beta2, eps: _eps, amsgrad: _amsgrad, maximize: _maximize);
    }

    protected override IReadOnlyList<string> StateNames(ParamGroup group)
        => group.amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];

    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParamState state)
    {
        if (!state.tensors.TryGetValue("exp_avg", out var m))
        {
            state.tensors["exp_avg"] = m = StateZeros(param);
            state.tensors["exp_avg_sq"] = StateZeros(param);
            if (group.amsgrad) state.tensors["max_exp_avg_sq"] = StateZeros(param);
        }
        var v = state.tensors["exp_avg_sq"];
        var vmax = group.amsgrad ? state.tensors["max_exp_avg_sq"] : null;
        state.step++;

        double lr = group.lr, wd = group.weight_decay, beta1 = group.beta1, beta2 = group.beta2;
        double bc1 = 1 - Math.Pow(beta1, state.step);
        double bc2 = 1 - Math.Pow(beta2, state.step);
        var s = new Scalars
        {
            Decay = (float)(1 - lr * wd),
            DoDecay = wd != 0,
            W1 = (float)(1 - beta1),
            B2 = (float)beta2,
            C2 = (float)(1 - beta2),
            Bc2Sqrt = (float)Math.Sqrt(bc2),
            Eps = (float)group.eps,
            NegStepSize = (float)(-(lr / bc1)),
            Maximize = group.maximize,
            Legacy = legacy_first_moment,
            B1 = (float)beta1,
        };

        if (param.device.IsCpu && param.DType == DType.Float32)
        {
            Fused(param, grad, m, v, vmax, s);
            param.mark_modified_(); m.mark_modified_(); v.mark_modified_(); vmax?.mark_modified_();
            return;
        }
        using var scope = torch.NewDisposeScope();
        var g = s.Maximize ? grad.neg() : grad;
        if (s.DoDecay) param.mul_(s.Decay);
        if (s.Legacy) m.mul_(s.B1).add_(g.mul(s.W1));
        else m.add_(g.sub(m).mul(s.W1));
        v.mul_(s.B2).add_(g.mul(s.C2).mul(g));
        var vd = v;
        if (vmax is not null) { vmax.copy_(torch.maximum(vmax, v)); vd = vmax; }
        var denom = vd.sqrt().div(s.Bc2Sqrt).add(s.Eps);
        param.add_(m.mul(s.NegStepSize).div(denom));
    }

    struct Scalars
    {
        public float Decay, W1, B1, B2, C2, Bc2Sqrt, Eps, NegStepSize;
        public bool DoDecay, Maximize, Legacy;
    }

    static void Fused(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor? vmax, Scalars s)
    {
        int n = param.numel();
        FusedLoop.Run(n, (start, count) =>
        {
            var p = param.AsSpan().Slice(start, count);
            var g = grad.AsSpan().Slice(start, count);
            var mm = m.AsSpan().Slice(start, count);
            var vv = v.AsSpan().Slice(start, count);
            var vx = vmax is null ? default : vmax.AsSpan().Slice(start, count);
            Chunk(p, g, mm, vv, vx, s);
        });
    }

    static unsafe void Chunk(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> vmax, in Scalars s)
    {
        int n = p.Length, i = 0;
        bool ams = !vmax.IsEmpty;
        fixed (float* pp = p, gp = g, mp = m, vp = v, xp = vmax)
        {
            if (Fma.IsSupported && Avx.IsSupported)
            {
                var decay = Vector256.Create(s.Decay);
                var w1 = Vector256.Create(s.W1);
                var b1 = Vector256.Create(s.B1);
                var b2 = Vector256.Create(s.B2);
                var c2 = Vector256.Create(s.C2);
                var bc2s = Vector256.Create(s.Bc2Sqrt);
                var eps = Vector256.Create(s.Eps);
                var ss = Vector256.Create(s.NegStepSize);
                for (; i <= n - 8; i += 8)
                {
                    var gv = Avx.LoadVector256(gp + i);
                    if (s.Maximize) gv = Vector256.Negate(gv);
                    var pv = Avx.LoadVector256(pp + i);
                    if (s.DoDecay) pv = Avx.Multiply(pv, decay);
                    var mv = Avx.LoadVector256(mp + i);
                    mv = s.Legacy ? Fma.MultiplyAdd(gv, w1, Avx.Multiply(mv, b1))      // add(g, alpha) is an fmadd in ATen
                                  : Fma.MultiplyAdd(w1, Avx.Subtract(gv, mv), mv);
                    var vv = Avx.Multiply(Avx.LoadVector256(vp + i), b2);
                    vv = Avx.Add(vv, Avx.Multiply(Avx.Multiply(c2, gv), gv));
                    var vd = vv;
                    if (ams) { vd = Avx.Max(Avx.LoadVector256(xp + i), vv); Avx.Store(xp + i, vd); }
                    var denom = Avx.Add(Avx.Divide(Avx.Sqrt(vd), bc2s), eps);
                    pv = Avx.Add(pv, Avx.Divide(Avx.Multiply(ss, mv), denom));
                    Avx.Store(pp + i, pv);
                    Avx.Store(mp + i, mv);
                    Avx.Store(vp + i, vv);
                }
            }
            for (; i < n; i++)
            {
                float gv = s.Maximize ? -gp[i] : gp[i];
                float pv = pp[i];
                if (s.DoDecay) pv *= s.Decay;
                float mv = s.Legacy ? MathF.FusedMultiplyAdd(gv, s.W1, mp[i] * s.B1) : MathF.FusedMultiplyAdd(s.W1, gv - mp[i], mp[i]);
                float vv = vp[i] * s.B2;
                vv += s.C2 * gv * gv;
                float vd = vv;
                if (ams) { vd = MathF.Max(xp[i], vv); xp[i] = vd; }
                float denom = MathF.Sqrt(vd) / s.Bc2Sqrt + s.Eps;
                pp[i] = pv + s.NegStepSize * mv / denom;
                mp[i] = mv;
                vp[i] = vv;
            }
        }
    }
}

/// <summary>Splits an elementwise update over the cores when it is large enough to pay for it (chunks of 64K
/// elements, each written by one thread: the result does not depend on the split).</summary>
internal static class FusedLoop
{
    const int Chunk = 1 << 16;

    public static void Run(int n, Action<int, int> body)
    {
        if (n <= 4 * Chunk || Environment.ProcessorCount == 1) { body(0, n); return; }
        int chunks = (n + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, c =>
        {
            int start = c * Chunk;
            body(start, Math.Min(Chunk, n - start));
        });
    }
}
