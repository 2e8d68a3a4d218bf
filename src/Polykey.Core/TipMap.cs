using System.Collections;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// A tip for each history (the tips a reader accepted, or the refs a file holds): those an open
/// snapshot recorded, searched in place, under the moves made since. Reads like a dictionary;
/// costs nothing per history until one is asked for.
/// </summary>
internal sealed class TipMap : IReadOnlyDictionary<string, ObjectId>
{
    private readonly TipRun _recorded;
    // Moves since the snapshot; null marks a history dropped (a pull rolled back).
    private readonly Dictionary<string, ObjectId?> _since = new(StringComparer.Ordinal);
    private int _droppedFromRecorded;

    public TipMap(TipRun? recorded = null) => _recorded = recorded ?? TipRun.Empty;

    public int Count => _recorded.Count - _droppedFromRecorded + _since.Count(m => m.Value is not null && !_recorded.TryGet(m.Key, out _));

    /// <summary>How many histories moved since the snapshot.</summary>
    public int MovedSinceRecorded => _since.Count;

    public bool TryGetValue(string id, out ObjectId tip)
    {
        if (_since.TryGetValue(id, out ObjectId? moved))
        {
            tip = moved ?? default;
            return moved is not null;
        }
        return _recorded.TryGet(id, out tip);
    }

    public bool ContainsKey(string id) => TryGetValue(id, out _);

    /// <summary>Whether the history moved (or was dropped) since the snapshot.</summary>
    public bool HasMoved(string id) => _since.ContainsKey(id);

    public ObjectId this[string id]
    {
        get => TryGetValue(id, out ObjectId tip) ? tip : throw new KeyNotFoundException($"history {id} has no accepted tip");
        set
        {
            if (_since.TryGetValue(id, out ObjectId? old) && old is null && _recorded.TryGet(id, out _)) _droppedFromRecorded--;
            _since[id] = value;
        }
    }

    public void Remove(string id)
    {
        if (!ContainsKey(id)) return;
        if (_recorded.TryGet(id, out _)) _droppedFromRecorded++;
        _since[id] = null;
    }

    /// <summary>The histories moved since the snapshot, with their tips now (null: dropped).</summary>
    public IEnumerable<KeyValuePair<string, ObjectId?>> Moved => _since;

    public IEnumerable<string> Keys => this.Select(t => t.Key);

    public IEnumerable<ObjectId> Values => this.Select(t => t.Value);

    /// <summary>
    /// This map's tips that <paramref name="held"/> lacks or holds at another commit, in history-id
    /// order: what a pull must look at. The recorded runs are compared raw; only the moves since
    /// either snapshot are looked up one by one.
    /// </summary>
    public List<KeyValuePair<string, ObjectId>> Unlike(TipMap held)
    {
        var candidates = new HashSet<string>(_recorded.NotIdenticalIn(held._recorded), StringComparer.Ordinal);
        candidates.UnionWith(_since.Keys);
        candidates.UnionWith(held._since.Keys);
        var unlike = new List<KeyValuePair<string, ObjectId>>();
        foreach (string id in candidates)
            if (TryGetValue(id, out ObjectId tip) && !(held.TryGetValue(id, out ObjectId heldTip) && heldTip == tip))
                unlike.Add(new(id, tip));
        unlike.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return unlike;
    }

    public IEnumerator<KeyValuePair<string, ObjectId>> GetEnumerator()
    {
        foreach (KeyValuePair<string, ObjectId> recorded in _recorded.All())
            if (!_since.ContainsKey(recorded.Key)) yield return recorded;
        foreach ((string id, ObjectId? tip) in _since)
            if (tip is { } t) yield return new(id, t);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
