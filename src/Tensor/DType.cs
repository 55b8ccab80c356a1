namespace FsrNative;

/// <summary>
/// Element types. Storage is counted in 4-byte words: Float32 and Int32 take one, Float64 two.
/// Float32 is the type of all data; Int32 holds indices and labels (argmax results, gather/scatter indices, class
/// maps); Float64 exists on the CPU backend only, for finite-difference gradient checks (see <c>Gradcheck</c>),
/// computed by plain reference kernels. Ops that need one or the other fail loudly when given the wrong one.
/// </summary>
public enum DType
{
    Float32,
    Int32,
    Float64,
}

public static class DTypeExtensions
{
    /// <summary>4-byte words per element.</summary>
    public static int Words(this DType dtype) => dtype == DType.Float64 ? 2 : 1;

    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;
}
