namespace FsrNative.Optim;

/// <summary>
/// A group of parameters sharing hyper-parameters (torch's param_groups entry). Options left null take the
/// optimiser's defaults when the optimiser is built; afterwards every option has a value and may be changed
/// (a schedule sets <see cref="lr"/> before each step). <see cref="initial_lr"/> remembers the group's base rate.
/// </summary>
public sealed class ParamGroup
{
    double? _lr, _weightDecay, _beta1, _beta2, _eps, _momentum, _dampening;
    bool? _nesterov, _amsgrad, _maximize;

    public ParamGroup(IEnumerable<Tensor> parameters, double? lr = null, double? weight_decay = null, string? name = null,
        double? beta1 = null, double? beta2 = null, double? eps = null, bool? amsgrad = null,
        double? momentum = null, double? dampening = null, bool? nesterov = null, bool? maximize = null)
    {
        Parameters = parameters.ToList();
        this.name = name;
        (_lr, _weightDecay, _beta1, _beta2, _eps, _amsgrad) = (lr, weight_decay, beta1, beta2, eps, amsgrad);
        (_momentum, _dampening, _nesterov, _maximize) = (momentum, dampening, nesterov, maximize);
    }

    public IReadOnlyList<Tensor> Parameters { get; }
    public string? name { get; set; }

    public double lr { get => Get(_lr, "lr"); set => _lr = value; }
    public double weight_decay { get => Get(_weightDecay, "weight_decay"); set => _weightDecay = value; }
    /// <summary>The group's base learning rate (set from <see cref="lr"/> when the optimiser is built; schedules scale it).</summary>
    public double initial_lr { get; set; }
    public double beta1 { get => Get(_beta1, "beta1"); set => _beta1 = value; }
    public double beta2 { get => Get(_beta2, "beta2"); set => _beta2 = value; }
    public double eps { get => Get(_eps, "eps"); set => _eps = value; }
    public bool amsgrad { get => Get(_amsgrad, "amsgrad"); set => _amsgrad = value; }
    public double momentum { get => Get(_momentum, "momentum"); set => _momentum = value; }
    public double dampening { get => Get(_dampening, "dampening"); set => _dampening = value; }
    public bool nesterov { get => Get(_nesterov, "nesterov"); set => _nesterov = value; }
    public bool maximize { get => Get(_maximize, "maximize"); set => _maximize = value; }

    T Get<T>(T? value, string option) where T : struct
        => value ?? throw new InvalidOperationException($"param group{(name is null ? "" : $" '{name}'")}: option '{option}' is not used by this group's optimiser");

    internal void Default(double? lr = null, double? weight_decay = null, double? beta1 = null, double? beta2 = null, double? eps = null,
        bool? amsgrad = null, double? momentum = null, double? dampening = null, bool? nesterov = null, bool? maximize = null)
    {
        _lr ??= lr; _weightDecay ??= weight_decay; _beta1 ??= beta1; _beta2 ??= beta2; _eps ??= eps; _amsgrad ??= amsgrad;
        _momentum ??= momentum; _dampening ??= dampening; _nesterov ??= nesterov; _maximize ??= maximize;
        initial_lr = this.lr;
    }

    /// <summary>The hyper-parameters that are set, by torch's names (booleans as 0/1), for state dicts.</summary>
    internal Dictionary<string, double> Hyper()
    {
        var h = new Dictionary<string, double>();
        void Add(string k, double? v) { if (v is double d) h[k] = d; }
        Add("lr", _lr); Add("initial_lr", initial_lr); Add("weight_decay", _weightDecay); Add("beta1", _beta1); Add("beta2", _beta2);
        Add("eps", _eps); Add("amsgrad", _amsgrad is bool a ? (a ? 1 : 0) : null); Add("momentum", _momentum); Add("dampening", _dampening);
        Add("nesterov", _nesterov is bool n ? (n ? 1 : 0) : null); Add("maximize", _maximize is bool m ? (m ? 1 : 0) : null);
        return h;
    }

    internal void SetHyper(IReadOnlyDictionary<string, double> h)
    {
        foreach (var (k, v) in h)
            switch (k)
            {
                case "lr": _lr = v; break;
                case "initial_lr": initial_lr = v; break;
                case "weight_decay": _weightDecay = v; break;
                case "beta1": _beta1 = v; break;
                case "beta2": _beta2 = v; break;
                case "eps": _eps = v; break;
                case "amsgrad": _amsgrad = v != 0; break;
                case "momentum": _momentum = v; break;
                case "dampening": _dampening = v; break;
                case "nesterov": _nesterov = v != 0; break;
                case "maximize": _maximize = v != 0; break;
                default: throw new ArgumentException($"optimizer state: unknown hyper-parameter '{k}'");
            }
    }
}

/// <summary>
/// An optimiser's state as data: per group its hyper-parameters and the indices of its parameters (numbered
/// across groups in order, as torch does), and per parameter index its step count and state tensors
/// (exp_avg, exp_avg_sq, momentum_buffer, …). Tensors in a dict returned by <see cref="Optimizer.state_dict"/>
/// are the optimiser's own (not copies).
/// </summary>
public sealed class OptimizerStateDict
{
    public required string Kind { get; init; }
    public required List<Dictionary<string, double>> param_groups { get; init; }
    public required List<int[]> group_params { get; init; }
    public required Dictionary<int, ParamState> state { get; init; }
}

/// <summary>One parameter's optimiser state: the number of steps taken and the named state tensors.</summary>
public sealed class ParamState
{
    public long step { get; set; }
    public Dictionary<string, Tensor> tensors { get; } = new();
}

/// <summary>
/// The base of the optimisers, after torch.optim.Optimizer: parameter groups, <see cref="zero_grad"/>,
/// <see cref="step"/>, and state dicts. A parameter whose requires_grad is false or that has no gradient is
/// skipped by <see cref="step"/> (weight decay included), as in PyTorch.
/// </summary>
public abstract class Optimizer : IDisposable
{
    readonly List<ParamGroup> _groups = new();
    readonly Dictionary<Tensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Adds the groups; derived constructors call it once their defaults are set.</summary>
    protected void AddGroups(IEnumerable<ParamGroup> groups)
    {
        foreach (var g in groups) add_param_group(g);
        if (_groups.Count == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list");
    }

    public IReadOnlyList<ParamGroup> param_groups => _groups;

    /// <summary>Fills the group's unset options with this optimiser's defaults.</summary>
    protected abstract void ApplyDefaults(ParamGroup group);

    /// <summary>The state tensor names this optimiser keeps per parameter (for load_state_dict's checks).</summary>
    protected abstract IReadOnlyList<string> StateNames(ParamGroup group);

    public void add_param_group(ParamGroup group)
    {
        foreach (var p in group.Parameters)
        {
            if (!p.is_leaf) throw new ArgumentException($"{GetType().Name}: can only optimise leaf tensors; {p.Name ?? "a parameter"} is the result of an op");
            if (!p.DType.IsFloatingPoint()) throw new ArgumentException($"{GetType().Name}: parameter {p.Name} is {p.DType}, not floating point");
            if (_groups.Any(g => g.Parameters.Any(q => ReferenceEquals(q, p))) || group.Parameters.Count(q => ReferenceEquals(q, p)) > 1)
                throw new ArgumentException($"{GetType().Name}: parameter {p.Name ?? Shape.Format(p.shape)} appears in more than one group (or twice in one)");
        }
        ApplyDefaults(group);
        _groups.Add(group);
    }

    /// <summary>Clears the gradients of every parameter of every group.</summary>
    public void zero_grad(bool setToNone = true)
    {
        foreach (var g in _groups)
            foreach (var p in g.Parameters) p.zero_grad(setToNone);
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void step()
    {
        using var noGrad = torch.no_grad();
        foreach (var g in _groups)
            foreach (var p in g.Parameters)
            {
                if (!p.requires_grad || p.grad is null) continue;
                if (!_state.TryGetValue(p, out var st)) _state[p] = st = new ParamState();
                var grad = p.grad.is_contiguous() ? p.grad : p.grad.contiguous();
                try { Update(g, p, grad, st); }
                finally { if (!ReferenceEquals(grad, p.grad)) grad.Dispose(); }
            }
    }

    /// <summary>Updates one parameter (grad mode is off; <paramref name="grad"/> is contiguous).</summary>
    protected abstract void Update(ParamGroup group, Tensor param, Tensor grad, ParamState state);

    /// <summary>A state tensor of the parameter's shape, zero-filled, owned by the optimiser.</summary>
    protected static Tensor StateZeros(Tensor param) => torch.zeros(param.shape, param.device, dtype: param.DType).DetachFromDisposeScope();

    /// <summary>The state for <paramref name="param"/>, if it has taken a step.</summary>
    public ParamState? state(Tensor param) => _state.GetValueOrDefault(param);

    public OptimizerStateDict state_dict()
    {
        var groups = new List<Dictionary<string, double>>();
        var indices = new List<int[]>();
        var state = new Dictionary<int, ParamState>();
        int index = 0;
        foreach (var g in _groups)
        {
            groups.Add(g.Hyper());
            var ids = new int[g.Parameters.Count];
            for (int i = 0; i < ids.Length; i++, index++)
            {
                ids[i] = index;
                if (_state.TryGetValue(g.Parameters[i], out var st)) state[index] = st;
            }
            indices.Add(ids);
        }
        return new OptimizerStateDict { Kind = GetType().Name, param_groups = groups, group_params = indices, state = state };
    }

    /// <summary>
    /// Restores hyper-parameters and per-parameter state (copied onto each parameter's device). The dict must come
    /// from the same optimiser type over the same groups and parameter shapes; every fault is reported at once and
    /// nothing changes on error.
    /// </summary>
    public void load_state_dict(OptimizerStateDict dict)
    {
        var faults = new List<string>();
        if (dict.Kind != GetType().Name) faults.Add($"state is from {dict.Kind}, this is {GetType().Name}");
        if (dict.param_groups.Count != _groups.Count || dict.group_params.Count != _groups.Count)
            faults.Add($"state has {dict.param_groups.Count} groups, the optimiser {_groups.Count}");
        var all = _groups.SelectMany(g => g.Parameters.Select(p => (g, p))).ToList();
        if (faults.Count == 0)
        {
            for (int i = 0; i < _groups.Count; i++)
                if (dict.group_params[i].Length != _groups[i].Parameters.Count)
                    faults.Add($"group {i} has {dict.group_params[i].Length} parameters in the state, {_groups[i].Parameters.Count} here");
            foreach (var (index, st) in dict.state)
            {
                if (index < 0 || index >= all.Count) { faults.Add($"state for parameter {index}, which does not exist"); continue; }
                var (g, p) = all[index];
                var names = StateNames(g);
                foreach (var (name, t) in st.tensors)
                {
                    if (!names.Contains(name)) faults.Add($"parameter {index} ({p.Name}): unexpected state '{name}'");
                    else if (!Shape.SameShape(t.shape, p.shape) || t.DType != p.DType)
                        faults.Add($"parameter {index} ({p.Name}): state '{name}' is {t.DType}{Shape.Format(t.shape)}, the parameter {p.DType}{Shape.Format(p.shape)}");
                }
            }
        }
        if (faults.Count > 0)
            throw new ArgumentException($"{GetType().Name}.load_state_dict: {faults.Count} fault(s):\n  " + string.Join("\n  ", faults));

        for (int i = 0; i < _groups.Count; i++) _groups[i].SetHyper(dict.param_groups[i]);
        foreach (var st in _state.Values) foreach (var t in st.tensors.Values) t.Dispose();
        _state.Clear();
        using var noGrad = torch.no_grad();
        foreach (var (index, st) in dict.state)
        {
            var p = all[index].p;
            var copy = new ParamState { step = st.step };
            foreach (var (name, t) in st.tensors)
            {
                var own = StateZeros(p);
                own.copy_(t);
                copy.tensors[name] = own;
            }
            _state[p] = copy;
        }
    }

    public void Dispose()
    {
        foreach (var st in _state.Values) foreach (var t in st.tensors.Values) t.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }
}
