using FsrNative.Kernels;

namespace FsrNative;

/// <summary>
/// CRF family: the permutohedral lattice (build once per image, then filter any number of channels), the dense-CRF
/// mean-field update, and PAR's affinity and propagation. No gradients at this level; the lattice filter's transpose
/// is the same filter with the blur directions reversed.
/// </summary>
public partial interface IBackend
{
    /// <summary>Builds the permutohedral lattice of <paramref name="points"/> points with <paramref name="dims"/>-dimensional
    /// features (contiguous (points, dims), Float32, or Float64 on the CPU). The lattice lives on this backend; dispose it.</summary>
    PermutohedralLattice BuildLattice(Tensor features, int points, int dims);

    /// <summary>output (channels, points) = s ⊙ L(s ⊙ values) for contiguous planar values, with L the lattice filter
    /// (blur directions d…0 when <paramref name="reverse"/>: the transpose) and s the optional per-point
    /// <paramref name="scale"/> (points), e.g. the symmetric normalisation of a dense-CRF kernel. output may not alias values.</summary>
    void LatticeFilter(PermutohedralLattice lattice, Tensor values, Tensor output, int channels, bool reverse, Tensor? scale);

    /// <summary>q (labels, points) = softmax over labels of −unary + w1·f1 + w2·f2; f1/f2 null to leave a term out.
    /// All contiguous (labels, points).</summary>
    void MeanFieldUpdate(Tensor unary, Tensor? f1, float w1, Tensor? f2, float w2, Tensor q, int labels, int points);

    /// <summary>PAR affinity weights (batch, nb, h, w), nb = 8·dilations, from image (batch, channels, h, w) and the
    /// position term (nb) of <see cref="ParMath.PositionWeights"/>.</summary>
    void ParAffinity(Tensor image, Tensor position, Tensor weights, int batch, int channels, int h, int w, ParDilations dilations);

    /// <summary>One PAR step: output (batch, planes, h, w) = Σ_n weights(b, n)·q shifted to neighbour n (replicate
    /// padding). output may not alias q.</summary>
    void ParPropagate(Tensor weights, Tensor q, Tensor output, int batch, int planes, int h, int w, ParDilations dilations);
}

/// <summary>
/// A permutohedral lattice (Adams et al. 2010, as in Krähenbühl's dense CRF) built by one backend over N points with
/// d-dimensional features: the simplex vertices and barycentric weights of every point, and the lattice's blur
/// neighbours. Filtering with it costs O(N·(d+1) + M·(d+1)) per channel (M = vertices). Holds backend memory: dispose it.
/// </summary>
public abstract class PermutohedralLattice : IDisposable
{
    protected PermutohedralLattice(Device device, DType dtype, int points, int dims, int vertices)
    {
        Device = device;
        DType = dtype;
        Points = points;
        Dims = dims;
        Vertices = vertices;
    }

    public Device Device { get; }
    /// <summary>Element type of the features and of the values it filters.</summary>
    public DType DType { get; }
    public int Points { get; }
    public int Dims { get; }
    /// <summary>Number of lattice vertices M.</summary>
    public int Vertices { get; }
    public bool IsDisposed { get; private set; }

    /// <summary>Throws naming the op when the lattice was disposed.</summary>
    public void CheckAlive(string op)
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(PermutohedralLattice), $"{op}: the permutohedral lattice was disposed");
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Gives the lattice's memory back.</summary>
    protected abstract void Release();

    public override string ToString() => $"PermutohedralLattice({Points} points, d = {Dims}, {Vertices} vertices, {DType}, {Device})";
}
