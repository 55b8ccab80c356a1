using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Optim;

/// <summary>
/// Stochastic gradient descent as torch.optim.SGD, per parameter:
/// <code>
/// d ← g + λ·θ                                   (weight decay, coupled)
/// b ← d (first step) | b·μ + (1 − τ)·d           (momentum μ, dampening τ)
/// d ← d + μ·b (nesterov) | b
/// θ ← θ − lr·d
/// </code>
/// with torch's fused multiply-adds for the <c>add(x, alpha)</c> steps. Fused CPU loop; composed in-place ops on
/// other devices.
/// </summary>
public sealed class SGD : Optimizer
{
    readonly double _lr, _momentum, _dampening, _weightDecay;
    readonly bool _nesterov, _maximize;

    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, momentum, dampening, weight_decay, nesterov, maximize) { }

    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false)
    {
        if (lr < 0) throw new ArgumentException($"SGD: invalid learning rate {lr}");
        if (momentum < 0) throw new ArgumentException($"SGD: invalid momentum {momentum}");
        if (weight_decay < 0) throw new ArgumentException($"SGD: invalid weight decay {weight_decay}");
        (_lr, _momentum, _dampening, _weightDecay, _nesterov, _maximize) = (lr, momentum, dampening, weight_decay, nesterov, maximize);
        AddGroups(groups);
        foreach (var g in param_groups)
            if (g.nesterov && (g.momentum <= 0 || g.dampening != 0))
                throw new ArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening");
    }

    protected override void ApplyDefaults(ParamGroup group)
        => group.Default(lr: _lr, weight_decay: _weightDecay, momentum: _momentum, dampening: _dampening, nesterov: _nesterov, maximize: _maximize);

    protected override IReadOnlyList<string> StateNames(ParamGroup group) => ["momentum_buffer"];

    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParamState state)
    {
        double mu = group.momentum;
        Tensor? buf = null;
        bool first = false;
        if (mu != 0 && !state.tensors.TryGetValue("momentum_buffer", out buf))
        {
            state.tensors["momentum_buffer"] = buf = StateZeros(param);
            first = true;
        }
        state.step++;
        var s = new Scalars
        {
            Wd = (float)group.weight_decay, DoWd = group.weight_decay != 0,
            Mu = (float)mu, OneMinusDamp = (float)(1 - group.dampening), NegLr = (float)(-group.lr),
            First = first, Nesterov = group.nesterov, Maximize = group.maximize,
        };
        if (param.device.IsCpu && param.DType == DType.Float32)
        {
            int n = param.numel();
            FusedLoop.Run(n, (start, count) => Chunk(param.AsSpan().Slice(start, count), grad.AsSpan().Slice(start, count),
                buf is null ? default : buf.AsSpan().Slice(start, count), s));
            param.mark_modified_(); buf?.mark_modified_();
            return;
        }
        using var scope = torch.NewDisposeScope();
        var d = s.Maximize ? grad.neg() : grad;
        if (s.DoWd) d = d.add(param.mul(s.Wd));
        if (buf is not null)
        {
            if (first) buf.copy_(d);
            else buf.mul_(s.Mu).add_(d.mul(s.OneMinusDamp));
            d = s.Nesterov ? d.add(buf.mul(s.Mu)) : buf;
        }
        param.add_(d.mul(s.NegLr));
    }

    struct Scalars
    {
        public float Wd, Mu, OneMinusDamp, NegLr;
        public bool DoWd, First, Nesterov, Maximize;
    }

    static unsafe void Chunk(Span<float> p, ReadOnlySpan<float> g, Span<float> buf, in Scalars s)
    {
        int n = p.Length, i = 0;
        bool mom = !buf.IsEmpty;
        fixed (float* pp = p, gp = g, bp = buf)
        {
            if (Fma.IsSupported && Avx.IsSupported)
            {
                var wd = Vector256.Create(s.Wd);
                var mu = Vector256.Create(s.Mu);
                var omd = Vector256.Create(s.OneMinusDamp);
                var nlr = Vector256.Create(s.NegLr);
                for (; i <= n - 8; i += 8)
                {
                    var pv = Avx.LoadVector256(pp + i);
                    var d = Avx.LoadVector256(gp + i);
                    if (s.Maximize) d = Vector256.Negate(d);
                    if (s.DoWd) d = Fma.MultiplyAdd(pv, wd, d);
                    if (mom)
                    {
                        var b = s.First ? d : Fma.MultiplyAdd(d, omd, Avx.Multiply(Avx.LoadVector256(bp + i), mu));
                        Avx.Store(bp + i, b);
                        d = s.Nesterov ? Fma.MultiplyAdd(b, mu, d) : b;
                    }
                    Avx.Store(pp + i, Fma.MultiplyAdd(d, nlr, pv));
                }
            }
            for (; i < n; i++)
            {
                float pv = pp[i];
                float d = s.Maximize ? -gp[i] : gp[i];
                if (s.DoWd) d = MathF.FusedMultiplyAdd(pv, s.Wd, d);
                if (mom)
                {
                    float b = s.First ? d : MathF.FusedMultiplyAdd(d, s.OneMinusDamp, bp[i] * s.Mu);
                    bp[i] = b;
                    d = s.Nesterov ? MathF.FusedMultiplyAdd(b, s.Mu, d) : b;
                }
                pp[i] = MathF.FusedMultiplyAdd(d, s.NegLr, pv);
            }
        }
    }
}
