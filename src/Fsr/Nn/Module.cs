using System.Reflection;
using System.Text;

namespace FsrNative.Nn;

/// <summary>
/// The base of every layer and model, after torch.nn.Module / TorchSharp's Module: named parameters and buffers,
/// submodules, <see cref="state_dict"/> / <see cref="load_state_dict"/>, <see cref="train"/> / <see cref="eval"/>,
/// <see cref="to(Device)"/>, freezing (<see cref="requires_grad_"/>) and parameter counts.
/// <para>
/// Parameters and buffers live in the module's own tables, not in fields: layers expose them as properties that
/// look the table up (<c>public Tensor weight => Param("weight")</c>), so <see cref="to(Device)"/> can replace the
/// tensors and every reference through the module stays right. (Optimisers hold the tensors themselves: build them
/// after moving the model, as in PyTorch.) Submodules are registered explicitly with
/// <see cref="register_module{T}"/>, which returns the module for a readonly field, or found by
/// <see cref="RegisterComponents"/> among the fields of type <see cref="Module"/>, as TorchSharp does.
/// </para>
/// A module owns its tensors: registering takes them out of every dispose scope, and <see cref="Dispose"/> frees
/// them and those of all submodules.
/// </summary>
public abstract class Module : IDisposable
{
    readonly OrderedDictionary<string, Tensor?> _parameters = new();
    readonly OrderedDictionary<string, Tensor?> _buffers = new();
    readonly HashSet<string> _nonPersistent = new();
    readonly OrderedDictionary<string, Module> _modules = new();
    bool _disposed;

    /// <summary>True in training mode (the default), false after <see cref="eval"/>.</summary>
    public bool training { get; private set; } = true;

    // ---- registration ---------------------------------------------------------------------------------------

    /// <summary>
    /// Registers <paramref name="tensor"/> as parameter <paramref name="name"/> (null registers an absent optional
    /// parameter, e.g. a bias that is switched off). The tensor must be a leaf; it is made to require grad and taken
    /// out of dispose scopes (the module owns it). Returns the tensor.
    /// </summary>
    public Tensor register_parameter(string name, Tensor tensor) => RegisterParameterCore(name, tensor)!;

    /// <summary>Registers an absent optional parameter (<c>bias=None</c>).</summary>
    public void register_parameter_none(string name) => RegisterParameterCore(name, null);

    Tensor? RegisterParameterCore(string name, Tensor? tensor)
    {
        CheckName(name, "register_parameter");
        if (tensor is not null)
        {
            if (!tensor.is_leaf)
                throw new ArgumentException($"register_parameter('{name}'): the tensor is the result of an op ({tensor.grad_fn}); parameters must be leaves — pass tensor.detach()");
            if (!tensor.DType.IsFloatingPoint())
                throw new ArgumentException($"register_parameter('{name}'): parameters must be floating point, got {tensor.DType}");
            tensor.DetachFromDisposeScope();
            tensor.requires_grad = true;
            tensor.Name = name;
        }
        _parameters[name] = tensor;
        return tensor;
    }

    /// <summary>Registers a buffer: state that is not trained (running statistics, fixed tables). Persistent buffers
    /// are part of <see cref="state_dict"/>. Null registers an absent buffer. Returns the tensor.</summary>
    public Tensor? register_buffer(string name, Tensor? tensor, bool persistent = true)
    {
        CheckName(name, "register_buffer");
        if (tensor is not null)
        {
            tensor.DetachFromDisposeScope();
            tensor.Name = name;
        }
        _buffers[name] = tensor;
        if (persistent) _nonPersistent.Remove(name); else _nonPersistent.Add(name);
        return tensor;
    }

    /// <summary>Registers <paramref name="module"/> as submodule <paramref name="name"/> and returns it.</summary>
    public T register_module<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name, "register_module");
        if (ReferenceEquals(module, this)) throw new ArgumentException($"register_module('{name}'): a module cannot contain itself");
        _modules[name] = module;
        return module;
    }

    /// <summary>Registers every field of type <see cref="Module"/> (declared in this class and its bases, in
    /// declaration order) under the field's name, as TorchSharp's RegisterComponents does. Fields already registered
    /// (by reference) are skipped.</summary>
    protected void RegisterComponents()
    {
        var types = new List<Type>();
        for (var t = GetType(); t is not null && t != typeof(Module); t = t.BaseType) types.Insert(0, t);
        foreach (var type in types)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!typeof(Module).IsAssignableFrom(field.FieldType)) continue;
                if (field.GetValue(this) is not Module m || _modules.Values.Any(v => ReferenceEquals(v, m))) continue;
                string name = field.Name.StartsWith('<') ? field.Name[1..field.Name.IndexOf('>')] : field.Name;   // auto-properties
                register_module(name, m);
            }
    }

    void CheckName(string name, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{what}: name '{name}' must be non-empty and contain no '.'");
        bool taken = what switch
        {
            "register_parameter" => _buffers.ContainsKey(name) || _modules.ContainsKey(name),
            "register_buffer" => _parameters.ContainsKey(name) || _modules.ContainsKey(name),
            _ => _parameters.ContainsKey(name) || _buffers.ContainsKey(name),
        };
        if (taken) throw new ArgumentException($"{what}: '{name}' is already a parameter, buffer or submodule of {GetType().Name}");
    }

    // ---- access for subclasses -------------------------------------------------------------------------------

    /// <summary>The parameter <paramref name="name"/>; throws if it is absent (null) or unknown.</summary>
    protected Tensor Param(string name)
        => _parameters.TryGetValue(name, out var p) ? p ?? throw new InvalidOperationException($"{GetType().Name}: parameter '{name}' is None")
                                                    : throw new KeyNotFoundException($"{GetType().Name} has no parameter '{name}'");

    /// <summary>The parameter <paramref name="name"/>, or null where it is registered as absent.</summary>
    protected Tensor? OptionalParam(string name)
        => _parameters.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"{GetType().Name} has no parameter '{name}'");

    protected Tensor? Buffer(string name)
        => _buffers.TryGetValue(name, out var b) ? b : throw new KeyNotFoundException($"{GetType().Name} has no buffer '{name}'");

    /// <summary>Replaces a registered parameter's tensor (e.g. a resized position embedding), disposing the old one.
    /// The new tensor is made a leaf that requires grad unless the old one was frozen.</summary>
    protected void ReplaceParameter(string name, Tensor tensor)
    {
        if (!_parameters.TryGetValue(name, out var old)) throw new KeyNotFoundException($"{GetType().Name} has no parameter '{name}'");
        bool requiresGrad = old?.requires_grad ?? true;
        RegisterReplacement(_parameters, name, tensor);
        tensor.requires_grad = requiresGrad;
        if (old is not null && !ReferenceEquals(old, tensor)) old.Dispose();
    }

    static void RegisterReplacement(OrderedDictionary<string, Tensor?> table, string name, Tensor tensor)
    {
        if (!tensor.is_leaf) throw new ArgumentException($"replacing '{name}': the new tensor must be a leaf (detach it)");
        tensor.DetachFromDisposeScope();
        tensor.Name = name;
        table[name] = tensor;
    }

    // ---- traversal -------------------------------------------------------------------------------------------

    /// <summary>This module's direct submodules with their names.</summary>
    public IEnumerable<(string name, Module module)> named_children()
    {
        foreach (var (name, m) in _modules) yield return (name, m);
    }

    public IEnumerable<Module> children() => named_children().Select(c => c.module);

    /// <summary>Every module in the tree, this one first (name ""), depth first in registration order.</summary>
    public IEnumerable<(string name, Module module)> named_modules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, m) in _modules)
            foreach (var sub in m.named_modules(prefix.Length == 0 ? name : prefix + "." + name))
                yield return sub;
    }

    public IEnumerable<Module> modules() => named_modules().Select(m => m.module);

    /// <summary>Parameters with their dotted names (<c>blocks.0.attn.qkv.weight</c>), each once even if shared;
    /// absent (null) parameters are skipped.</summary>
    public IEnumerable<(string name, Tensor parameter)> named_parameters(bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? named_modules() : [("", this)])
            foreach (var (name, p) in m._parameters)
                if (p is not null && seen.Add(p)) yield return (Join(prefix, name), p);
    }

    public IEnumerable<Tensor> parameters(bool recurse = true) => named_parameters(recurse).Select(p => p.parameter);

    /// <summary>Buffers with their dotted names (persistent and not), absent ones skipped.</summary>
    public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? named_modules() : [("", this)])
            foreach (var (name, b) in m._buffers)
                if (b is not null && seen.Add(b)) yield return (Join(prefix, name), b);
    }

    public IEnumerable<Tensor> buffers(bool recurse = true) => named_buffers(recurse).Select(b => b.buffer);

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Calls <paramref name="fn"/> on every submodule (children first) and then on this one, as torch's apply.</summary>
    public Module apply(Action<Module> fn)
    {
        foreach (var m in _modules.Values) m.apply(fn);
        fn(this);
        return this;
    }

    // ---- state dict ------------------------------------------------------------------------------------------

    /// <summary>
    /// Every parameter and persistent buffer by dotted name, in PyTorch's order (a module's own parameters, then
    /// its buffers, then each submodule's). The values are the module's own tensors, not copies: do not dispose them.
    /// </summary>
    public Dictionary<string, Tensor> state_dict()
    {
        var result = new Dictionary<string, Tensor>();
        Collect(result, "");
        return result;
    }

    void Collect(Dictionary<string, Tensor> into, string prefix)
    {
        foreach (var (name, p) in _parameters)
            if (p is not null) into[prefix + name] = p;
        foreach (var (name, b) in _buffers)
            if (b is not null && !_nonPersistent.Contains(name)) into[prefix + name] = b;
        foreach (var (name, m) in _modules) m.Collect(into, prefix + name + ".");
    }

    /// <summary>
    /// Copies the values of <paramref name="stateDict"/> into this module's parameters and buffers (any device;
    /// copied, so the caller keeps ownership of its tensors). With <paramref name="strict"/> every key must match;
    /// otherwise missing and unexpected keys are tolerated and reported. A tensor whose shape or element type
    /// differs is an error either way. All faults are collected first and reported in ONE
    /// <see cref="StateDictException"/>; on error nothing is copied.
    /// </summary>
    public (IReadOnlyList<string> missing, IReadOnlyList<string> unexpected) load_state_dict(
        IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var own = state_dict();
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (key, target) in own)
        {
            if (!stateDict.TryGetValue(key, out var src)) continue;
            if (!Shape.SameShape(src.shape, target.shape) || src.DType != target.DType)
                mismatched.Add($"{key}: checkpoint {src.DType}{Shape.Format(src.shape)}, model {target.DType}{Shape.Format(target.shape)}");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictException(GetType().Name, strict ? missing : [], strict ? unexpected : [], mismatched);
        using (torch.no_grad())
            foreach (var (key, target) in own)
                if (stateDict.TryGetValue(key, out var src) && !ReferenceEquals(src, target))
                    target.copy_(src);
        return (missing, unexpected);
    }

    // ---- modes, devices, freezing ----------------------------------------------------------------------------

    /// <summary>Sets training mode on this module and every submodule; returns this.</summary>
    public Module train(bool mode = true)
    {
        foreach (var m in modules()) m.training = mode;
        return this;
    }

    /// <summary>Evaluation mode (dropout and drop-path off); returns this.</summary>
    public Module eval() => train(false);

    /// <summary>
    /// Moves every parameter and buffer (and existing gradients) to <paramref name="device"/>: the tables get new
    /// leaf tensors there (same requires_grad) and the old ones are disposed. Returns this.
    /// </summary>
    public Module to(Device device)
    {
        foreach (var m in modules())
        {
            foreach (var name in m._parameters.Keys.ToList())
            {
                var p = m._parameters[name];
                if (p is null || p.device == device) continue;
                var moved = p.detach().to(device);
                moved.requires_grad = p.requires_grad;
                if (p.grad is not null) moved.grad = p.grad.detach().to(device).DetachFromDisposeScope();
                RegisterReplacement(m._parameters, name, moved);
                p.Dispose();
            }
            foreach (var name in m._buffers.Keys.ToList())
            {
                var b = m._buffers[name];
                if (b is null || b.device == device) continue;
                var moved = b.to(device);
                RegisterReplacement(m._buffers, name, moved);
                b.Dispose();
            }
        }
        return this;
    }

    /// <summary>Freezes (false) or unfreezes (true) every parameter of this subtree; returns this.</summary>
    public Module requires_grad_(bool requiresGrad = true)
    {
        foreach (var p in parameters()) p.requires_grad = requiresGrad;
        return this;
    }

    /// <summary>Clears the gradients of every parameter (disposes them, or zeroes them in place).</summary>
    public void zero_grad(bool setToNone = true)
    {
        foreach (var p in parameters()) p.zero_grad(setToNone);
    }

    /// <summary>The number of parameter elements (each shared parameter once); only trainable ones if asked.</summary>
    public long num_parameters(bool trainableOnly = false)
        => parameters().Where(p => !trainableOnly || p.requires_grad).Sum(p => (long)p.numel());

    /// <summary>A one-line-per-module summary: names, types, parameter shapes.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (name, m) in named_modules())
        {
            int depth = name.Length == 0 ? 0 : name.Count(c => c == '.') + 1;
            sb.Append(' ', 2 * depth).Append(name.Length == 0 ? m.GetType().Name : $"({name.Split('.')[^1]}): {m.GetType().Name}");
            var own = m._parameters.Where(p => p.Value is not null).Select(p => $"{p.Key}{Shape.Format(p.Value!.shape)}");
            var line = string.Join(", ", own);
            if (line.Length > 0) sb.Append(" [").Append(line).Append(']');
            sb.AppendLine();
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>Frees every parameter, buffer and gradient of this module and its submodules.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var m in _modules.Values) m.Dispose();
        foreach (var p in _parameters.Values) p?.Dispose();
        foreach (var b in _buffers.Values) b?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a typed forward: <c>forward(x)</c>, or <c>call(x)</c> as in TorchSharp.</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut forward(TIn input);
    public TOut call(TIn input) => forward(input);
}

/// <summary>
/// <see cref="Module.load_state_dict"/> found keys that do not fit: every missing, unexpected and mis-shaped key is
/// listed (in that order) in one message.
/// </summary>
public sealed class StateDictException : Exception
{
    public StateDictException(string module, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(Describe(module, missing, unexpected, mismatched))
    {
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    public IReadOnlyList<string> Missing { get; }
    public IReadOnlyList<string> Unexpected { get; }
    /// <summary>"key: checkpoint dtype[shape], model dtype[shape]" entries.</summary>
    public IReadOnlyList<string> Mismatched { get; }

    static string Describe(string module, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        var sb = new StringBuilder($"Error(s) in loading state_dict for {module}:");
        if (missing.Count > 0) sb.Append($"\n  Missing key(s) ({missing.Count}): {string.Join(", ", missing)}");
        if (unexpected.Count > 0) sb.Append($"\n  Unexpected key(s) ({unexpected.Count}): {string.Join(", ", unexpected)}");
        if (mismatched.Count > 0) sb.Append($"\n  Size/type mismatch ({mismatched.Count}):\n    {string.Join("\n    ", mismatched)}");
        return sb.ToString();
    }
}
