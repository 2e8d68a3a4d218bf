using Polykey.Core;

namespace Polykey.Fs;

/// <summary>Renames, as editors and tools make them: scratch names stay in memory, a file over a secret is its next version.</summary>
public sealed partial class SecretTree
{
    private void RenameFile(string from, string to, string newName)
    {
        if (_view.IsDirectory(to)) throw new FsException(FsError.IsDirectory);
        bool toScratch = ScratchNames.IsScratch(newName);
        _buffers.TryGetValue(from, out WriteBuffer? buffer);
        bool fromCommitted = Committed(from) && !_masked.Contains(from);

        if (toScratch)
        {
            // Editors move the original aside (vim's x~): keep it in memory; the keynode is untouched.
            buffer ??= new WriteBuffer(to, scratch: true, CurrentContent(from).Span, _view.Files[from].Modified);
            if (fromCommitted)
            {
                _masked.Add(from);
                buffer.Origin ??= from;
            }
            MoveBuffer(buffer, from, to, scratch: true);
            RefreshPath(from);
            RefreshPath(to);
            return;
        }

        bool toExists = _view.IsFile(to);
        var edits = new List<SecretEdit>();
        if (fromCommitted && (buffer is null || !buffer.Dirty))
        {
            if (toExists && Committed(to)) edits.AddRange([new SecretEdit.Set(to, CurrentContent(from).Span.ToArray()), new SecretEdit.Remove(from)]);
            else edits.Add(new SecretEdit.Move(from, to));
        }
        else
        {
            // An in-memory file (scratch, new, or changed) lands as the target's next version.
            byte[] bytes;
            lock (buffer!) bytes = buffer.Span.ToArray();
            if (buffer.Origin is { } original && original == to && _masked.Contains(to) && CurrentContent(to).Span.SequenceEqual(bytes))
            {
                // Moved aside and back unchanged: nothing to record.
            }
            else if (buffer.Origin is { } moved && moved != to && _masked.Contains(moved) && !toExists && Committed(moved))
            {
                edits.Add(new SecretEdit.Move(moved, to));
                _masked.Remove(moved);
            }
            else
            {
                edits.Add(new SecretEdit.Set(to, bytes));
            }
            if (fromCommitted) edits.Add(new SecretEdit.Remove(from));
        }
        if (TreeView.Parent(from) != TreeView.Parent(to)) KeepParent(edits, from);
        _masked.Remove(to);
        if (_buffers.Remove(to, out WriteBuffer? replaced))
        {
            replaced.Detached = true;
            if (replaced.Handles == 0) replaced.Wipe();
        }
        string? origin = buffer?.Origin;
        try
        {
            Commit(edits, touched: []);
        }
        finally
        {
            foreach (SecretEdit.Set set in edits.OfType<SecretEdit.Set>()) Array.Clear(set.Value);
        }
        if (buffer is not null)
        {
            buffer.Dirty = false;
            buffer.Origin = null;
            MoveBuffer(buffer, from, to, scratch: false);
            if (buffer.Handles == 0) DropBuffer(buffer);
        }
        foreach (string path in new[] { from, to, origin }.OfType<string>()) RefreshPath(path);
    }

    private void RenameDirectory(string from, string to)
    {
        if (_view.IsFile(to)) throw new FsException(FsError.NotDirectory);
        if (to.StartsWith(from + "/", StringComparison.Ordinal)) throw new FsException(FsError.InvalidName, "a directory cannot move into itself");
        if (_view.Directories.TryGetValue(to, out DirectoryEntryList? target) && target.Children.Count > 0) throw new FsException(FsError.NotEmpty);
        string Renamed(string path) => to + path[from.Length..];
        bool Under(string path) => path == from || path.StartsWith(from + "/", StringComparison.Ordinal);

        var edits = new List<SecretEdit>();
        foreach (SecretInfo secret in _secretByPath.Values.Where(s => Under(s.Path) && !_masked.Contains(s.Path)))
            edits.Add(new SecretEdit.Move(secret.Path, Renamed(secret.Path)));
        foreach (string record in _directoryRecords.Where(Under))
            edits.AddRange([new SecretEdit.RemoveDirectory(record), new SecretEdit.MakeDirectory(Renamed(record))]);
        if (_directoryRecords.Contains(to)) edits.Add(new SecretEdit.RemoveDirectory(to));
        if (TreeView.Parent(from) != TreeView.Parent(to)) KeepParent(edits, from); // as for a file moved out
        Commit(edits, touched: []);
        foreach (WriteBuffer buffer in _buffers.Values.Where(b => Under(b.Path)).ToList()) MoveBuffer(buffer, buffer.Path, Renamed(buffer.Path), buffer.Scratch);
        foreach (string masked in _masked.Where(Under).ToList())
        {
            _masked.Remove(masked);
            _masked.Add(Renamed(masked));
        }
    }

    // A directory stays until rmdir, as on any filesystem: when its last file leaves, record it.
    private void KeepParent(List<SecretEdit> edits, string path)
    {
        string parent = TreeView.Parent(path);
        if (parent.Length == 0 || _directoryRecords.Contains(parent)) return;
        if (_view.Directories.TryGetValue(parent, out DirectoryEntryList? directory) && directory.Children.Count == 1)
            edits.Add(new SecretEdit.MakeDirectory(parent));
    }

    private void MoveBuffer(WriteBuffer buffer, string from, string to, bool scratch)
    {
        if (_buffers.TryGetValue(from, out WriteBuffer? atFrom) && atFrom == buffer) _buffers.Remove(from);
        buffer.Path = to;
        buffer.Scratch = scratch;
        _buffers[to] = buffer;
    }
}
