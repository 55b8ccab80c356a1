using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// In-place ops (trailing underscore, as in PyTorch) for optimisers, initialisation and gradient accumulation.
/// They are not recorded: using one on a tensor that requires grad while grad mode is on is an error, and each bumps
/// the storage version so a backward that saved the old values fails loudly.
/// </summary>
public static partial class TensorOps
{
    static void CheckInPlace(Tensor x, string name)
    {
        if (GradMode.IsEnabled && x.requires_grad)
            throw new InvalidOperationException($"{name}: {x.Describe()} requires grad; in-place ops on it are only allowed inside torch.no_grad()");
    }

    /// <summary>Runs <paramref name="compute"/> into x directly when x is contiguous, else through a temporary.</summary>
    static Tensor InPlace(Tensor x, string name, Action<Tensor> compute)
    {
        CheckInPlace(x, name);
        if (x.is_contiguous()) compute(x);
        else
        {
            using var tmp = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            compute(tmp);
            x.Backend.Copy(tmp, x);
        }
        x.Storage.BumpVersion();
        return x;
    }

    extension(Tensor x)
    {
        public Tensor add_(Tensor other) => BinaryInPlace(x, other, BinaryOp.Add, "add_");
        /// <summary>x += alpha·other.</summary>
        public Tensor add_(Tensor other, float alpha)
        {
            if (alpha == 1f) return x.add_(other);
            using var scaled = GradMode.Set(false) is var ng ? Scaled(other, alpha, ng) : null!;
            return x.add_(scaled);
        }
        public Tensor sub_(Tensor other) => BinaryInPlace(x, other, BinaryOp.Sub, "sub_");
        public Tensor mul_(Tensor other) => BinaryInPlace(x, other, BinaryOp.Mul, "mul_");
        public Tensor div_(Tensor other) => BinaryInPlace(x, other, BinaryOp.Div, "div_");
        public Tensor add_(float s) => UnaryInPlace(x, UnaryOp.AddScalar, "add_", s);
        public Tensor mul_(float s) => UnaryInPlace(x, UnaryOp.MulScalar, "mul_", s);
        public Tensor div_(float s) => UnaryInPlace(x, UnaryOp.DivScalar, "div_", s);
        public Tensor clamp_(float? min = null, float? max = null)
            => UnaryInPlace(x, UnaryOp.Clamp, "clamp_", min ?? float.NegativeInfinity, max ?? float.PositiveInfinity);

        public Tensor fill_(float value)
        {
            CheckInPlace(x, "fill_");
            x.Backend.Fill(x, x.DType == DType.Int32 ? BitConverter.Int32BitsToSingle((int)value) : value);
            x.Storage.BumpVersion();
            return x;
        }

        public Tensor zero_() => x.fill_(0f);

        /// <summary>Copies <paramref name="src"/> (broadcast to x's shape, any device) into x.</summary>
        public Tensor copy_(Tensor src)
        {
            CheckInPlace(x, "copy_");
            if (src.DType != x.DType) throw new ArgumentException($"copy_: source is {src.DType}, destination is {x.DType}");
            using var moved = src.device == x.device ? null : src.detach().to(x.device);
            var s = moved ?? src;
            using var view = Broadcasted(s, x.ShapeArray);
            x.Backend.Copy(view, x);
            x.Storage.BumpVersion();
            return x;
        }

        /// <summary>
        /// Ends this tensor's participation in autograd and marks whether it should collect gradients — the leaf
        /// flag of a parameter (PyTorch's <c>requires_grad_</c>).
        /// </summary>
        public Tensor requires_grad_(bool requiresGrad = true)
        {
            x.requires_grad = requiresGrad;
            return x;
        }

        /// <summary>Clears the accumulated gradient: disposes it (returning its memory to the pool) and sets
        /// <c>grad</c> to null, or, with <paramref name="setToNone"/> false, fills it with zeros in place.</summary>
        public void zero_grad(bool setToNone = true)
        {
            var g = x.grad;
            if (g is null) return;
            if (setToNone) { x.grad = null; g.Dispose(); }
            else using (torch.no_grad()) g.zero_();
        }

        /// <summary>Computes the gradients of this tensor with respect to the graph leaves (see <see cref="Engine"/>).</summary>
        public void backward(Tensor? gradient = null, bool retainGraph = false) => Engine.Backward(x, gradient, retainGraph);
    }

    static Tensor Scaled(Tensor other, float alpha, IDisposable noGrad)
    {
        using (noGrad) return other.mul(alpha);
    }

    static Tensor UnaryInPlace(Tensor x, UnaryOp op, string name, float a, float b = 0f)
    {
        Float(x, name);
        return InPlace(x, name, dst => x.Backend.Unary(op, x, dst, a, b));
    }

    static Tensor BinaryInPlace(Tensor x, Tensor other, BinaryOp op, string name)
    {
        Float(x, name);
        Float(other, name);
        SameDevice(x, other, name);
        SameDType(x, other, name);
        var shape = Shape.Broadcast(x.ShapeSpan, other.ShapeSpan, name);
        if (!Shape.SameShape(shape, x.ShapeSpan))
            throw new ArgumentException($"{name}: result shape {Shape.Format(shape)} differs from the destination's {Shape.Format(x.ShapeSpan)}");
        using var ov = Broadcasted(other, shape);
        return InPlace(x, name, dst => x.Backend.Binary(op, x, ov, dst));
    }
}
