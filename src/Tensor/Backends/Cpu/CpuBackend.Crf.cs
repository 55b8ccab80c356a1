using FsrNative.Kernels;
using FsrNative.Kernels.Cpu.Crf;
using RefD = FsrNative.Kernels.Cpu.Reference.ReferenceCrf<double>;

namespace FsrNative;

public sealed unsafe partial class CpuBackend
{
    /// <summary>The CPU lattice: managed tables (Float32, or Float64 for gradient checks).</summary>
    internal sealed class CpuLatticeHandle : PermutohedralLattice
    {
        internal CpuLatticeHandle(LatticeTables<float>? f, LatticeTables<double>? d)
            : base(Device.CPU, f is not null ? DType.Float32 : DType.Float64, f?.Points ?? d!.Points, f?.Dims ?? d!.Dims, f?.Vertices ?? d!.Vertices)
        {
            Float = f;
            Double = d;
        }

        internal LatticeTables<float>? Float { get; private set; }
        internal LatticeTables<double>? Double { get; private set; }

        protected override void Release()
        {
            Float = null;
            Double = null;
        }
    }

    public PermutohedralLattice BuildLattice(Tensor features, int points, int dims)
    {
        const string name = "permutohedral_lattice";
        if (features.NumEl != (long)points * dims)
            throw new ArgumentException($"{name}: features {features.Describe()} do not hold {points} points of dimension {dims}");
        if (IsDouble(features)) return new CpuLatticeHandle(null, LatticeBuilder.Build<double>(ContigD(features, name), points, dims));
        return new CpuLatticeHandle(LatticeBuilder.Build<float>(Contig(features, name), points, dims), null);
    }

    public void LatticeFilter(PermutohedralLattice lattice, Tensor values, Tensor output, int channels, bool reverse, Tensor? scale)
    {
        const string name = "lattice_filter";
        lattice.CheckAlive(name);
        if (lattice is not CpuLatticeHandle h)
            throw new ArgumentException($"{name}: {lattice} was not built by the cpu backend");
        long expected = (long)channels * lattice.Points;
        if (values.NumEl != expected || output.NumEl != expected)
            throw new ArgumentException($"{name}: values {values.Describe()} and output {output.Describe()} must hold {channels} channels of {lattice.Points} points");
        if (scale is not null && scale.NumEl != lattice.Points)
            throw new ArgumentException($"{name}: scale {scale.Describe()} must hold {lattice.Points} values");
        if (values.DType != lattice.DType || output.DType != lattice.DType || (scale is not null && scale.DType != lattice.DType))
            throw new ArgumentException($"{name}: the lattice is {lattice.DType}, values {values.DType}, output {output.DType}{(scale is null ? "" : $", scale {scale.DType}")}");
        if (h.Double is { } td)
        {
            RefD.LatticeFilter(td, ContigD(values, name), ContigD(output, name), channels, reverse, scale is null ? default : ContigD(scale, name));
            return;
        }
        CpuLattice.Filter(h.Float!, Contig(values, name), Contig(output, name), channels, reverse, scale is null ? default : Contig(scale, name));
    }

    public void MeanFieldUpdate(Tensor unary, Tensor? f1, float w1, Tensor? f2, float w2, Tensor q, int labels, int points)
    {
        const string name = "dense_crf_update";
        long n = (long)labels * points;
        foreach (var t in new[] { unary, f1, f2, q })
            if (t is not null && t.NumEl != n) throw new ArgumentException($"{name}: {t.Describe()} must hold {labels} labels of {points} points");
        if (IsDouble(q))
        {
            RefD.MeanFieldUpdate(ContigD(unary, name), f1 is null ? default : ContigD(f1, name), w1, f2 is null ? default : ContigD(f2, name), w2,
                ContigD(q, name), labels, points);
            return;
        }
        CpuCrf.MeanFieldUpdate(Contig(unary, name), f1 is null ? default : Contig(f1, name), w1, f2 is null ? default : Contig(f2, name), w2,
            Contig(q, name), labels, points);
    }

    public void ParAffinity(Tensor image, Tensor position, Tensor weights, int batch, int channels, int h, int w, ParDilations dilations)
    {
        const string name = "par";
        if (IsDouble(image))
        {
            RefD.ParAffinity(ContigD(image, name), ContigD(position, name), ContigD(weights, name), batch, channels, h, w, dilations);
            return;
        }
        CpuCrf.ParAffinity(Contig(image, name), Contig(position, name), Contig(weights, name), batch, channels, h, w, dilations);
    }

    public void ParPropagate(Tensor weights, Tensor q, Tensor output, int batch, int planes, int h, int w, ParDilations dilations)
    {
        const string name = "par";
        if (IsDouble(q))
        {
            RefD.ParPropagate(ContigD(weights, name), ContigD(q, name), ContigD(output, name), batch, planes, h, w, dilations);
            return;
        }
        CpuCrf.ParPropagate(Contig(weights, name), Contig(q, name), Contig(output, name), batch, planes, h, w, dilations);
    }
}
