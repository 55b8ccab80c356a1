namespace FsrNative.Kernels;

/// <summary>Elementwise unary functions. Parameters <c>a</c>/<c>b</c> are passed beside the code where an op needs them.</summary>
public enum UnaryOp
{
    /// <summary>y = x (a strided copy when the input is a view).</summary>
    Identity,
    Neg,
    Abs,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Square,
    /// <summary>y = x^a.</summary>
    PowScalar,
    Relu,
    /// <summary>GELU with the exact erf: x·Φ(x).</summary>
    GeluErf,
    /// <summary>GELU, tanh approximation: 0.5x(1+tanh(√(2/π)(x+0.044715x³))).</summary>
    GeluTanh,
    Sigmoid,
    Tanh,
    /// <summary>y = min(max(x, a), b); a = −∞ or b = +∞ leave that side open.</summary>
    Clamp,
    /// <summary>y = x + a.</summary>
    AddScalar,
    /// <summary>y = x · a.</summary>
    MulScalar,
    /// <summary>y = a / x.</summary>
    RDivScalar,
    /// <summary>y = x / a (true division, as PyTorch does it; not x·(1/a)).</summary>
    DivScalar,
    /// <summary>y = a − x.</summary>
    RSubScalar,
    /// <summary>y = a · x + b (one fused pass for x·s + t).</summary>
    Affine,
    /// <summary>y = a^x (scalar base, tensor exponent).</summary>
    RPowScalar,
}

/// <summary>Elementwise binary functions with NumPy broadcasting.</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    /// <summary>y = a^b.</summary>
    Pow,
    // Comparisons: not differentiable; the result is a float mask, 1 where true and 0 where false.
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// <summary>Reductions along one axis of a contiguous (outer, R, inner) block.</summary>
public enum ReduceOp
{
    Sum,
    Mean,
    Max,
    Min,
    /// <summary>Σ x² (used by norms and var).</summary>
    SumSquares,
}
