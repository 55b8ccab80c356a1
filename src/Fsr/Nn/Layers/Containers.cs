namespace FsrNative.Nn;

/// <summary>An indexable list of submodules named "0", "1", … (state-dict keys <c>blocks.3.attn.qkv.weight</c>).</summary>
public class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    readonly List<T> _items = new();

    public ModuleList(IEnumerable<T>? modules = null)
    {
        if (modules is not null) foreach (var m in modules) append(m);
    }

    public ModuleList<T> append(T module)
    {
        register_module(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return this;
    }

    public T this[int index] => _items[index];
    public int Count => _items.Count;
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Modules applied one after another; children named "0", "1", … like torch.nn.Sequential.</summary>
public sealed class Sequential : Module<Tensor, Tensor>, IReadOnlyList<Module<Tensor, Tensor>>
{
    readonly List<Module<Tensor, Tensor>> _items = new();

    public Sequential(params Module<Tensor, Tensor>[] modules) : this((IEnumerable<Module<Tensor, Tensor>>)modules) { }

    public Sequential(IEnumerable<Module<Tensor, Tensor>> modules)
    {
        foreach (var m in modules) append(m);
    }

    public Sequential append(Module<Tensor, Tensor> module)
    {
        register_module(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return this;
    }

    public override Tensor forward(Tensor input)
    {
        var x = input;
        foreach (var m in _items) x = m.forward(x);
        return x;
    }

    public Module<Tensor, Tensor> this[int index] => _items[index];
    public int Count => _items.Count;
    public IEnumerator<Module<Tensor, Tensor>> GetEnumerator() => _items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
