using System.Globalization;

namespace FsrNative.Tests.Infrastructure;

// Inside FsrNative.*, `torch` and `Tensor` are the engine's; TorchSharp goes by these aliases here.
using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;

/// <summary>Makes <c>count</c> deterministic input values from a seed.</summary>
public delegate float[] ValueMaker(ulong seed, int count);

/// <summary>Value distributions for <see cref="OpCheck"/> inputs.</summary>
public static class Values
{
    public static ValueMaker Uniform(float lo = -1f, float hi = 1f) => (s, n) => TestRandom.Uniform(s, n, lo, hi);
    public static ValueMaker Normal(float mean = 0f, float std = 1f) => (s, n) => TestRandom.Normal(s, n, mean, std);
    /// <summary>Uniform in [lo, hi) with lo &gt; 0 (log, sqrt, pow, division).</summary>
    public static ValueMaker Positive(float lo = 0.5f, float hi = 2f) => Uniform(lo, hi);

    /// <summary>|x| in [min, max) with a random sign: keeps inputs away from the kink at 0 (relu, abs).</summary>
    public static ValueMaker AwayFromZero(float min = 0.1f, float max = 2f) => (s, n) =>
    {
        var mag = TestRandom.Uniform(s, n, min, max);
        var sign = TestRandom.Integers(s ^ 0x5151, n, 0, 2);
        for (int i = 0; i < n; i++) if (sign[i] == 0) mag[i] = -mag[i];
        return mag;
    };

    /// <summary>Uniform in [lo, hi) but never within <paramref name="gap"/> of any of <paramref name="points"/>
    /// (clamp bounds): values that fall too close are pushed out by 2·gap.</summary>
    public static ValueMaker AwayFrom(float lo, float hi, float gap, params float[] points) => (s, n) =>
    {
        var v = TestRandom.Uniform(s, n, lo, hi);
        for (int i = 0; i < n; i++)
            foreach (float p in points)
                if (MathF.Abs(v[i] - p) < gap) v[i] = p + (v[i] >= p ? 2 * gap : -2 * gap);
        return v;
    };

    /// <summary>Small integers in [lo, hi) as floats: many exact ties (max/min/argmax first-index rules).</summary>
    public static ValueMaker Ties(int lo = -2, int hi = 3) => (s, n) => Array.ConvertAll(TestRandom.Integers(s, n, lo, hi), v => (float)v);

    /// <summary>0/1 masks with P(1) ≈ <paramref name="p"/>.</summary>
    public static ValueMaker Mask(double p = 0.5) => (s, n) => Array.ConvertAll(TestRandom.Uniform(s, n, 0f, 1f), v => v < p ? 1f : 0f);

    /// <summary>Values from <paramref name="inner"/> with every <paramref name="every"/>-th element (starting at
    /// <paramref name="start"/>) replaced by <paramref name="value"/> (e.g. −∞ entries in softmax rows).</summary>
    public static ValueMaker With(ValueMaker inner, float value, int every, int start = 0) => (s, n) =>
    {
        var v = inner(s, n);
        for (int i = start; i < n; i += every) v[i] = value;
        return v;
    };

    /// <summary>Exactly these values (the shape must hold as many).</summary>
    public static ValueMaker Fixed(params float[] values) => (_, n) =>
    {
        if (n != values.Length) throw new ArgumentException($"Values.Fixed: {values.Length} values for {n} elements");
        return (float[])values.Clone();
    };
}

/// <summary>
/// How an input is laid out, applied identically in both engines: a base tensor of <see cref="BaseShape"/> is made
/// from the values (that base is the leaf whose gradient is compared), then viewed as the requested shape, so the
/// op sees a non-contiguous view in both engines.
/// </summary>
public sealed class Layout(string name, Func<int[], int[]> baseShape, Func<Tensor, int[], Tensor> ours, Func<TT, int[], TT> theirs)
{
    public string Name { get; } = name;
    public int[] BaseShape(int[] shape) => baseShape(shape);
    public Tensor Ours(Tensor b, int[] shape) => ours(b, shape);
    public TT Theirs(TT b, int[] shape) => theirs(b, shape);
    public override string ToString() => Name;

    static long[] L(int[] a) => Array.ConvertAll(a, v => (long)v);

    public static readonly Layout Contiguous = new("", s => s, (b, _) => b, (b, _) => b);

    /// <summary>The last two dims swapped: base (…, n, m) viewed as (…, m, n) by transpose(-1, -2).</summary>
    public static readonly Layout Transposed = new("t",
        s => { Need(s, 2, "t"); var b = (int[])s.Clone(); (b[^1], b[^2]) = (b[^2], b[^1]); return b; },
        (b, _) => b.transpose(-1, -2), (b, _) => b.transpose(-1, -2));

    /// <summary>All dims reversed: base (d_{n-1}, …, d_0) viewed through permute(n-1, …, 0).</summary>
    public static readonly Layout Permuted = new("p",
        s => s.Reverse().ToArray(),
        (b, s) => b.permute(Enumerable.Range(0, s.Length).Reverse().ToArray()),
        (b, s) => b.permute(Enumerable.Range(0, s.Length).Reverse().Select(i => (long)i).ToArray()));

    /// <summary>A slice: base has 3 more entries along <paramref name="dim"/>, viewed by narrow(dim, 2, size).</summary>
    public static Layout Narrowed(int dim) => new($"n{dim}",
        s => { Need(s, 1, "n"); var b = (int[])s.Clone(); b[Ax(dim, s)] += 3; return b; },
        (b, s) => b.narrow(Ax(dim, s), 2, s[Ax(dim, s)]),
        (b, s) => b.narrow(Ax(dim, s), 2, s[Ax(dim, s)]));

    /// <summary>A broadcast view: base has size 1 along <paramref name="dims"/>, expanded to the shape (stride 0).</summary>
    public static Layout Expanded(params int[] dims) => new($"e{string.Join("", dims)}",
        s => { var b = (int[])s.Clone(); foreach (int d in dims) b[Ax(d, s)] = 1; return b; },
        (b, s) => b.expand(s), (b, s) => b.expand(L(s)));

    static int Ax(int d, int[] s) => d < 0 ? d + s.Length : d;

    static void Need(int[] s, int rank, string what)
    {
        if (s.Length < rank) throw new ArgumentException($"layout @{what} needs rank ≥ {rank}, shape has {s.Length}");
    }

    /// <summary>t, p, n (last dim), nK (dim K), eK… (dims K… expanded).</summary>
    public static Layout Parse(string code) => code switch
    {
        "" => Contiguous,
        "t" => Transposed,
        "p" => Permuted,
        "n" => Narrowed(-1),
        _ when code[0] == 'n' => Narrowed(int.Parse(code[1..], CultureInfo.InvariantCulture)),
        _ when code[0] == 'e' => Expanded(code[1..].Select(c => c - '0').ToArray()),
        _ => throw new ArgumentException($"unknown layout code '@{code}' (t, p, n, nK, eK…)"),
    };
}

/// <summary>
/// One input of an <see cref="OpCheck"/>: a shape, a layout, values, and whether it requires grad — or an Int32
/// index tensor (int64 on the torch side). Parsed from a compact spec: <c>"7x13"</c>, <c>"()"</c> (0-D),
/// <c>"7x13@t"</c> (transposed view), <c>"7x13@n"</c>/<c>"@n0"</c> (narrowed slice), <c>"7x13@e0"</c>
/// (broadcast view of a 1x13 base), <c>"2x3x4@p"</c> (permuted), a trailing <c>"!"</c> for no grad.
/// </summary>
public sealed record In
{
    public required int[] Shape { get; init; }
    public Layout Layout { get; init; } = Layout.Contiguous;
    /// <summary>Overrides the check's default values.</summary>
    public ValueMaker? Values { get; init; }
    public bool Grad { get; init; } = true;
    /// <summary>Set for an index input: Int32 here, int64 in torch, values in [0, IndexHigh) (or <see cref="IndexValues"/>).</summary>
    public int IndexHigh { get; init; }
    public int[]? IndexValues { get; init; }
    public bool IsIndex => IndexHigh > 0 || IndexValues is not null;

    public static implicit operator In(string spec) => Parse(spec);

    public static In Parse(string spec)
    {
        string s = spec.Trim();
        bool grad = !s.EndsWith('!');
        if (!grad) s = s[..^1];
        string layout = "";
        int at = s.IndexOf('@');
        if (at >= 0) { layout = s[(at + 1)..]; s = s[..at]; }
        int[] shape = s is "()" or "" ? [] : s.Split('x').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new In { Shape = shape, Layout = Layout.Parse(layout), Grad = grad };
    }

    /// <summary>An Int32 index tensor with random values in [0, high).</summary>
    public static In Index(int high, params int[] shape) => new() { Shape = shape, IndexHigh = high, Grad = false };
    /// <summary>An Int32 index tensor with random values in [0, high), seen through a layout (a non-contiguous index).</summary>
    public static In Index(int high, Layout layout, params int[] shape) => new() { Shape = shape, IndexHigh = high, Grad = false, Layout = layout };
    /// <summary>An Int32 index tensor with exactly these values.</summary>
    public static In IndexOf(int[] values, params int[] shape) => new() { Shape = shape, IndexValues = values, Grad = false };

    public In With(ValueMaker values) => this with { Values = values };
    public In NoGrad() => this with { Grad = false };

    public override string ToString()
    {
        string shape = Shape.Length == 0 ? "()" : string.Join("x", Shape);
        if (IsIndex) return $"int{shape}" + (Layout.Name.Length > 0 ? "@" + Layout.Name : "");
        return shape + (Layout.Name.Length > 0 ? "@" + Layout.Name : "") + (Grad ? "" : "!");
    }
}

/// <summary>
/// tinygrad's "one helper checks any op against torch": the same random inputs in both engines (optionally as
/// identical non-contiguous views), the forward outputs compared, then the SAME random output gradient
/// backpropagated in both and every input's gradient compared, each with its own tolerance. It also checks that
/// the op did not modify its inputs and that a second run gives bit-identical outputs and gradients (the engine is
/// deterministic by design). On failure the message names the op, the input specs and shapes, and
/// <see cref="Close"/>'s first mismatches.
/// </summary>
public static class OpCheck
{
    /// <summary>Default forward tolerance (float32 results in a different order than libtorch's).</summary>
    public static readonly Tolerance Forward = new(1e-5, 1e-4);
    /// <summary>Default gradient tolerance.</summary>
    public static readonly Tolerance Backward = new(1e-5, 1e-4);

    /// <summary>Checks a one-output op. <paramref name="ours"/> and <paramref name="theirs"/> receive the inputs in the same order.</summary>
    public static void Check(string op, In[] inputs, Func<Tensor[], Tensor> ours, Func<TT[], TT> theirs,
        Tolerance? fwd = null, Tolerance? bwd = null, ValueMaker? values = null)
        => CheckMany(op, inputs, x => [ours(x)], x => [theirs(x)], fwd, bwd, values);

    /// <summary>Checks an op with several outputs (split, max with dim, …): every output is compared, and every
    /// floating output that requires grad gets its own random gradient in one backward pass per engine.</summary>
    public static void CheckMany(string op, In[] inputs, Func<Tensor[], Tensor[]> ours, Func<TT[], TT[]> theirs,
        Tolerance? fwd = null, Tolerance? bwd = null, ValueMaker? values = null)
    {
        Torch.EnsureInitialized();
        var f = fwd ?? Forward;
        var b = bwd ?? Backward;
        var defaultValues = values ?? Values.Uniform();
        string label = $"{op}({string.Join(", ", inputs.Select(i => i.ToString()))})";
        ulong seed = TestRandom.SeedFor(label);

        using var tsScope = ts.NewDisposeScope();
        using var ourScope = DisposeScope.Open();

        // ---- identical inputs (ours are made by a function: the determinism check below makes them again) ---------
        var data = new float[inputs.Length][];
        var indices = new int[inputs.Length][];
        var theirLeaves = new TT[inputs.Length];
        var theirIn = new TT[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var spec = inputs[i];
            ulong s = seed + (ulong)i * 0x9E3779B97F4A7C15UL;
            var baseShape = spec.Layout.BaseShape(spec.Shape);
            int n = TestRandom.Numel(baseShape);
            if (spec.IsIndex)
            {
                // Index values fill the base (given values are in logical order of the view's shape: a view's base
                // holds them permuted, so with a layout they are drawn at random for the base instead).
                indices[i] = (spec.Layout == Layout.Contiguous ? spec.IndexValues : null) ?? TestRandom.Integers(s, n, 0, Math.Max(spec.IndexHigh, 1));
                if (indices[i].Length != n) throw new ArgumentException($"{label}: {indices[i].Length} index values for shape {ShapeText(baseShape)}");
                theirLeaves[i] = ts.tensor(Array.ConvertAll(indices[i], v => (long)v), L(baseShape), TorchSharp.torch.ScalarType.Int64);
            }
            else
            {
                data[i] = (spec.Values ?? defaultValues)(s, n);
                theirLeaves[i] = ts.tensor(data[i], L(baseShape), TorchSharp.torch.ScalarType.Float32, requires_grad: spec.Grad);
            }
            theirIn[i] = spec.Layout.Theirs(theirLeaves[i], spec.Shape);
        }

        Tensor[] MakeOurs(out Tensor[] leaves)
        {
            leaves = new Tensor[inputs.Length];
            var viewed = new Tensor[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                var spec = inputs[i];
                var baseShape = spec.Layout.BaseShape(spec.Shape);
                leaves[i] = spec.IsIndex
                    ? torch.tensor((ReadOnlySpan<int>)indices[i], baseShape)
                    : torch.tensor((ReadOnlySpan<float>)data[i], baseShape, requires_grad: spec.Grad);
                viewed[i] = spec.Layout.Ours(leaves[i], spec.Shape);
                if (!Shape.SameShape(viewed[i].shape, spec.Shape))
                    throw new InvalidOperationException($"{label}: layout @{spec.Layout} made shape {ShapeText(viewed[i].shape)} instead of {ShapeText(spec.Shape)}");
            }
            return viewed;
        }

        // ---- forward -------------------------------------------------------------------------------------------
        var ourOut = ours(MakeOurs(out var ourLeaves));
        var theirOut = theirs(theirIn);
        if (ourOut.Length != theirOut.Length)
            Fail($"{label}: our op returned {ourOut.Length} outputs, torch {theirOut.Length}");
        for (int k = 0; k < ourOut.Length; k++)
        {
            string what = $"{label} output {k}";
            var shape = ourOut[k].shape;
            var tshape = Torch.Shape(theirOut[k]);
            if (!shape.SequenceEqual(tshape))
                Fail($"{what}: shape {ShapeText(shape)}, torch {ShapeText(tshape)}");
            if (ourOut[k].numel() == 0) continue;   // shapes agree; nothing to compare (TorchSharp cannot copy out empty tensors)
            if (ourOut[k].DType == DType.Int32)
            {
                var mine = ourOut[k].ToIntArray();
                var theirsI = Array.ConvertAll(Torch.ToDoubleArray(theirOut[k]), v => (int)v);
                for (int e = 0; e < mine.Length; e++)
                    if (mine[e] != theirsI[e])
                        Fail($"{what} (indices): element [{Close.Index(e, shape)}] is {mine[e]}, torch {theirsI[e]}; ours [{string.Join(", ", mine.Take(20))}], torch [{string.Join(", ", theirsI.Take(20))}]");
                continue;
            }
            var report = Close.Compare(Torch.ToArray(theirOut[k]), ourOut[k].ToArray(), f.Atol, f.Rtol, what + " forward", shape, equalNan: true);
            if (report is not null) Fail(report);
        }

        // ---- backward with the same random output gradients -----------------------------------------------------
        var outputGrads = new float[ourOut.Length][];
        bool anyGrad = inputs.Any(i => i.Grad && !i.IsIndex);
        if (anyGrad)
        {
            var theirRoots = new List<TT>();
            var theirGrads = new List<TT>();
            for (int k = 0; k < ourOut.Length; k++)
            {
                bool ourNeeds = ourOut[k].requires_grad, theirNeeds = theirOut[k].requires_grad;
                if (ourNeeds != theirNeeds)
                    Fail($"{label} output {k}: requires_grad is {ourNeeds} here and {theirNeeds} in torch");
                if (!ourNeeds) continue;
                var shape = ourOut[k].shape;
                outputGrads[k] = TestRandom.Normal(seed ^ (0xABCDEFUL + (ulong)k), TestRandom.Numel(shape));
                theirRoots.Add(theirOut[k]);
                theirGrads.Add(ts.tensor(outputGrads[k], L(shape), TorchSharp.torch.ScalarType.Float32).to_type(theirOut[k].dtype));
            }
            OurBackward(ourOut, outputGrads);
            if (theirRoots.Count > 0) ts.autograd.backward(theirRoots, theirGrads);

            for (int i = 0; i < inputs.Length; i++)
            {
                if (!inputs[i].Grad || inputs[i].IsIndex) continue;
                var shape = ourLeaves[i].shape;
                var mine = ourLeaves[i].grad?.ToArray() ?? new float[TestRandom.Numel(shape)];
                var tg = theirLeaves[i].grad;
                var expected = tg is null || mine.Length == 0 ? new float[mine.Length] : Torch.ToArray(tg);
                string layout = inputs[i].Layout == Layout.Contiguous ? "" : $" (leaf {ShapeText(shape)} under @{inputs[i].Layout})";
                var report = Close.Compare(expected, mine, b.Atol, b.Rtol, $"{label} gradient of input {i}{layout}", shape, equalNan: true);
                if (report is not null) Fail(report);
            }
        }

        // ---- the op left its inputs alone ------------------------------------------------------------------------
        for (int i = 0; i < inputs.Length; i++)
        {
            bool same = inputs[i].IsIndex
                ? ourLeaves[i].ToIntArray().SequenceEqual(indices[i])
                : Close.Compare(data[i], ourLeaves[i].ToArray(), 0, 0, "", equalNan: true) is null;
            if (!same) Fail($"{label}: input {i} was modified by the op");
        }

        // ---- deterministic: a second run gives the same bits -----------------------------------------------------
        var again = ours(MakeOurs(out var leavesAgain));
        for (int k = 0; k < ourOut.Length; k++)
        {
            if (ourOut[k].numel() == 0) continue;
            bool same = ourOut[k].DType == DType.Int32
                ? ourOut[k].ToIntArray().SequenceEqual(again[k].ToIntArray())
                : Close.Compare(ourOut[k].ToArray(), again[k].ToArray(), 0, 0, "", equalNan: true) is null;
            if (!same) Fail($"{label} output {k}: two runs on the same input differ (the engine must be deterministic)");
        }
        if (anyGrad)
        {
            OurBackward(again, outputGrads);
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!inputs[i].Grad || inputs[i].IsIndex || ourLeaves[i].grad is null) continue;
                var report = Close.Compare(ourLeaves[i].grad!.ToArray(), leavesAgain[i].grad?.ToArray() ?? [], 0, 0,
                    $"{label} gradient of input {i}, second run (the engine must be deterministic)", equalNan: true);
                if (report is not null) Fail(report);
            }
        }
    }

    /// <summary>One backward pass per output that requires grad (retaining the graph until the last), each with its
    /// own gradient; the leaves' .grad accumulate the sum, like torch.autograd.backward over several roots.</summary>
    static void OurBackward(Tensor[] outputs, float[][] outputGrads)
    {
        var roots = Enumerable.Range(0, outputs.Length).Where(k => outputGrads[k] is not null).ToArray();
        for (int r = 0; r < roots.Length; r++)
        {
            var y = outputs[roots[r]];
            var g = torch.tensor((ReadOnlySpan<float>)outputGrads[roots[r]], y.shape);
            y.backward(y.DType == DType.Float32 ? g : g.to(y.DType), retainGraph: r < roots.Length - 1);
        }
    }

    static long[] L(int[] a) => Array.ConvertAll(a, v => (long)v);
    static string ShapeText(IEnumerable<int> s) => "[" + string.Join(", ", s) + "]";
    static void Fail(string message) => throw new Xunit.Sdk.XunitException(message);
}
