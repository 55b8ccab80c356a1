using FsrNative.Nn;

namespace FsrNative.Optim;

/// <summary>Builders for the parameter groups FSR and timm use.</summary>
public static class ParamGroups
{
    /// <summary>
    /// Splits parameters into a no-weight-decay group (1-D parameters — biases, LayerNorm weights — and the names
    /// in <paramref name="noDecay"/>, e.g. pos_embed, cls_token, mask/query tokens) and a weight-decay group, both at
    /// <paramref name="lr"/> (fsr-spec §7's groups 0/1 and 2/3). Frozen parameters (requires_grad false) are kept in
    /// their group; the optimiser skips them. Empty groups are left out.
    /// </summary>
    public static List<ParamGroup> decay_split(IEnumerable<(string name, Tensor parameter)> parameters, double lr, double weightDecay,
        IEnumerable<string>? noDecay = null, string? namePrefix = null)
    {
        var exempt = new HashSet<string>(noDecay ?? []);
        var plain = new List<Tensor>();
        var decayed = new List<Tensor>();
        foreach (var (name, p) in parameters)
        {
            string leaf = name.Split('.')[^1];
            if (p.dim() <= 1 || exempt.Contains(name) || exempt.Contains(leaf)) plain.Add(p);
            else decayed.Add(p);
        }
        var groups = new List<ParamGroup>();
        if (plain.Count > 0) groups.Add(new ParamGroup(plain, lr: lr, weight_decay: 0, name: (namePrefix ?? "") + "no_decay"));
        if (decayed.Count > 0) groups.Add(new ParamGroup(decayed, lr: lr, weight_decay: weightDecay, name: (namePrefix ?? "") + "decay"));
        return groups;
    }

    public static List<ParamGroup> decay_split(Module module, double lr, double weightDecay, IEnumerable<string>? noDecay = null, string? namePrefix = null)
        => decay_split(module.named_parameters(), lr, weightDecay, noDecay, namePrefix);
}
