namespace FsrNative;

/// <summary>The reduced precision an autocast region computes its matrix products in (PyTorch's
/// <c>torch.autocast(dtype=torch.bfloat16)</c>); bfloat16 is the only one: float16 needs loss scaling and is not offered.</summary>
public enum AutocastDType
{
    BFloat16,
}

/// <summary>
/// Mixed precision, PyTorch's autocast with the engine's twist (docs/engine.md "Mixed precision"). Per thread, off by
/// default; <c>using (torch.autocast()) { … }</c> turns it on for the ops run inside. While on, the matrix-product ops
/// — matmul (and so linear), scaled_dot_product_attention (q·kᵀ and p·v), conv2d — read their Float32 operands
/// rounded to bfloat16 and accumulate and return Float32; everything else (softmax, layer_norm, reductions, losses,
/// elementwise ops) is untouched Float32, and so are parameters, gradients and optimiser state. Each op decides at
/// forward time and records the decision: its backward rounds the incoming gradient and uses the rounded operands
/// whether or not autocast is still on when backward() runs. Float64 tensors (gradient checks) are never cast, as in
/// PyTorch.
/// </summary>
public static class Autocast
{
    [ThreadStatic] static bool _enabled;

    /// <summary>True inside an enabled <c>torch.autocast()</c> region on this thread.</summary>
    public static bool IsEnabled => _enabled;

    /// <summary>Whether an op with this first floating operand computes its products in bfloat16 now.</summary>
    internal static bool Applies(Tensor t) => _enabled && t.DType == DType.Float32;

    /// <summary>Sets the mode until the returned handle is disposed, then restores the previous one (regions nest).</summary>
    public static IDisposable Set(bool enabled)
    {
        bool previous = _enabled;
        _enabled = enabled;
        return new Restore(previous);
    }

    sealed class Restore(bool previous) : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _enabled = previous;
        }
    }
}

public static partial class torch
{
    /// <summary>
    /// <c>using (torch.autocast()) { … }</c>: the matrix products inside (matmul, linear, scaled_dot_product_attention,
    /// conv2d) take bfloat16-rounded operands with float32 accumulation and float32 results, forward and backward;
    /// see <see cref="Autocast"/>. <paramref name="enabled"/> = false switches it off inside an enclosing region.
    /// As PyTorch's torch.autocast(device_type, dtype=torch.bfloat16, enabled), for every device.
    /// </summary>
    public static IDisposable autocast(AutocastDType dtype = AutocastDType.BFloat16, bool enabled = true)
    {
        if (!Enum.IsDefined(dtype)) throw new ArgumentOutOfRangeException(nameof(dtype), $"autocast: dtype {dtype} is not supported (only BFloat16)");
        return Autocast.Set(enabled);
    }

    /// <summary>True inside an enabled autocast region on this thread (torch.is_autocast_enabled).</summary>
    public static bool is_autocast_enabled() => Autocast.IsEnabled;
}
