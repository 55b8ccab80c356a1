namespace FsrNative;

/// <summary>
/// How an op puts itself on the tape: after computing its output it calls <see cref="Record"/> with its inputs and
/// the closure that maps the output gradient to the input gradients — micrograd's pattern, written beside the
/// forward in each op's file.
/// </summary>
internal static class Tape
{
    /// <summary>True when grad mode is on and some input requires a gradient.</summary>
    public static bool Needed(Tensor a) => GradMode.IsEnabled && a.requires_grad;
    public static bool Needed(Tensor a, Tensor b) => GradMode.IsEnabled && (a.requires_grad || b.requires_grad);
    public static bool Needed(params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.requires_grad) return true;
        return false;
    }

    /// <summary>
    /// Attaches a grad_fn to <paramref name="output"/> when any input requires a gradient (and grad mode is on).
    /// The backward closure returns one gradient per input (null where none is needed), each of the input's shape.
    /// </summary>
    public static Tensor Record(Tensor output, string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (!Needed(inputs)) return output;
        output.grad_fn = new GradFn(name, inputs, backward, output);
        output.SetRequiresGradFromOp();
        return output;
    }

    public static Tensor Record(Tensor output, string name, Tensor input, Func<Tensor, Tensor?> backward)
        => Record(output, name, [input], g => [backward(g)]);
}
