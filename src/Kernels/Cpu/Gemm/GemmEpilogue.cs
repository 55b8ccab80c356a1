namespace FsrNative.Kernels.Cpu;

/// <summary>
/// What <see cref="Sgemm.Multiply(bool, bool, int, int, int, float, float*, int, float*, int, float, float*, int, float*, GemmEpilogue)"/>
/// does to each output element after the product: C[m,n] = act(alpha·(op(A)·op(B))[m,n] + beta·C[m,n] + bias[n]).
/// </summary>
public enum GemmEpilogue
{
    /// <summary>No bias, no activation (bias is ignored).</summary>
    None,
    /// <summary>Adds bias[n] to every row.</summary>
    Bias,
    /// <summary>Adds bias[n], then GELU with the exact erf: x·Φ(x) = 0.5x(1+erf(x/√2)).</summary>
    BiasGeluErf,
    /// <summary>Adds bias[n], then GELU, tanh approximation: 0.5x(1+tanh(√(2/π)(x+0.044715x³))).</summary>
    BiasGeluTanh,
}
