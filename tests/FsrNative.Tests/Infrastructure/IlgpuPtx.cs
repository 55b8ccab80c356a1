using System.Reflection;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FsrNative.Tests.Infrastructure;

/// <summary>One PTX target: the architecture passed to ILGPU and ptxas, and the PTX ISA version ILGPU writes.</summary>
public sealed record PtxTarget(string Name, CudaArchitecture Architecture, CudaInstructionSet InstructionSet)
{
    /// <summary>ptxas's -arch value, e.g. sm_80.</summary>
    public string PtxasArch => $"sm_{Architecture.Major}{Architecture.Minor}";
    public override string ToString() => $"{PtxasArch} (PTX ISA {InstructionSet.Major}.{InstructionSet.Minor})";
}

/// <summary>
/// Compiles ILGPU kernels to PTX without a GPU or a CUDA driver: ILGPU's PTX backend only generates text.
/// ptxas 11.8 (Debian 12) accepts PTX ISA ≤ 7.8, hence ISA 7.0 for sm_80 and ISA 7.8 for sm_90.
/// The context mirrors what a CUDA accelerator would compile with: ILGPU.Algorithms enabled (kernels may use
/// its warp/group extensions) and the default optimization level (O1). If the engine's ILGPU backend changes its
/// context settings, change them here too so that these tests see the PTX that production runs.
/// Thread-safe: compilation is serialized.
/// </summary>
public static class IlgpuPtx
{
    public static readonly PtxTarget Sm80 = new("sm_80", CudaArchitecture.SM_80, CudaInstructionSet.ISA_70);
    public static readonly PtxTarget Sm90 = new("sm_90", CudaArchitecture.SM_90, CudaInstructionSet.ISA_78);
    public static readonly IReadOnlyList<PtxTarget> Targets = [Sm80, Sm90];

    private static readonly object Gate = new();
    private static Context? _context;
    private static readonly Dictionary<string, PTXBackend> Backends = new(StringComparer.Ordinal);

    /// <summary>ILGPU's version (for the report header).</summary>
    public static string IlgpuVersion => typeof(Context).Assembly.GetName().Version?.ToString(3) ?? "?";

    /// <summary>
    /// Compiles <paramref name="kernel"/> to PTX text for <paramref name="target"/>. Explicitly grouped kernels take a
    /// group/grid layout at launch (shared memory, barriers); implicitly grouped ones take an Index1D/2D/3D first.
    /// </summary>
    public static string Compile(MethodInfo kernel, bool explicitlyGrouped, PtxTarget target)
    {
        lock (Gate)
        {
            _context ??= Context.Create(b => b.Cuda().EnableAlgorithms());
            if (!Backends.TryGetValue(target.Name, out var backend))
            {
                backend = new PTXBackend(_context, new CudaCapabilityContext(target.Architecture), target.Architecture,
                    target.InstructionSet, nvvmAPI: null);
                Backends[target.Name] = backend;
            }
            var entry = explicitlyGrouped
                ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
                : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
            var specialization = KernelSpecialization.Empty;
            var compiled = (PTXCompiledKernel)backend.Compile(entry, specialization);
            return compiled.PTXAssembly;
        }
    }

    /// <summary>A stable display id for a kernel method: "Namespace.Type.Method", with parameter types when overloaded.</summary>
    public static string KernelId(MethodInfo m)
    {
        string id = $"{m.DeclaringType?.FullName}.{m.Name}";
        bool overloaded = m.DeclaringType?.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Count(o => o.Name == m.Name && o.GetCustomAttribute<GpuKernelAttribute>() is not null) > 1;
        return overloaded ? $"{id}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.Name))})" : id;
    }

    /// <summary>Every static method in <paramref name="assembly"/> marked [GpuKernel], sorted by id.</summary>
    public static IReadOnlyList<(string Id, MethodInfo Method, GpuKernelAttribute Attribute)> DiscoverKernels(Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            throw new InvalidOperationException($"Cannot load every type of {assembly.GetName().Name}: " +
                string.Join("; ", ex.LoaderExceptions.Select(e => e?.Message)), ex);
        }
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var found = new List<(string, MethodInfo, GpuKernelAttribute)>();
        foreach (var t in types)
            foreach (var m in t.GetMethods(all))
            {
                var attr = m.GetCustomAttribute<GpuKernelAttribute>();
                if (attr is null) continue;
                if (!m.IsStatic)
                    throw new InvalidOperationException($"[GpuKernel] on {t.FullName}.{m.Name}: ILGPU kernels must be static methods.");
                found.Add((KernelId(m), m, attr));
            }
        return found.OrderBy(k => k.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>The kernels of FsrNative.Kernels (the production kernels the Ptx tests check).</summary>
    public static IReadOnlyList<(string Id, MethodInfo Method, GpuKernelAttribute Attribute)> ProductionKernels()
        => DiscoverKernels(typeof(GpuKernelAttribute).Assembly);
}
