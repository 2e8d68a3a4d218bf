namespace Polykey.Core.Tests;

/// <summary>Property 5 of the keynode file: a copy cut at any byte opens as the last complete change.</summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void CutAtEveryByteOfLastChange_OpensAsPreviousChange()
    {
        string path = _files.PathOf("node.keynode");
        long beforeLast;
        using (Keynode node = _files.Create())
        {
            node.Set("a", "first"u8);
            node.Set("b", "second"u8);
            beforeLast = new FileInfo(path).Length - 1024; // the end-of-archive blocks are overwritten next
            node.Set("a", "third"u8);
        }
        byte[] whole = File.ReadAllBytes(path);
        long lastEnd = whole.Length - 1024;
        // A change counts once its record's data is whole; the record's zero padding carries nothing.
        long recordDataEnd = Array.FindLastIndex(whole, (int)lastEnd - 1, b => b != 0) + 1;
        string cut = _files.PathOf("cut.keynode");
        for (long length = beforeLast; length <= whole.Length; length++)
        {
            File.WriteAllBytes(cut, whole[..(int)length]);
            using Keynode copy = Keynode.Open(cut, TestFiles.OwnerCredential);
            using SecretBytes a = copy.Get("a");
            string expected = length >= recordDataEnd ? "third" : "first";
            Assert.True(expected == System.Text.Encoding.ASCII.GetString(a.Span), $"cut at {length}: expected {expected}");
            Assert.Equal("second"u8.ToArray(), copy.Get("b").Span.ToArray());
            Assert.Empty(copy.Warnings);
        }
    }

    [Fact]
    public void CutCopy_AcceptsNewWritesAndStaysReadable()
    {
        string path = _files.PathOf("node.keynode");
        using (Keynode node = _files.Create())
        {
            node.Set("a", "first"u8);
            node.Set("a", "second"u8);
        }
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length - 1024 - 600)]);
        using (Keynode node = Keynode.Open(path, TestFiles.OwnerCredential))
        {
            Assert.Equal("first"u8.ToArray(), node.Get("a").Span.ToArray());
            node.Set("a", "third"u8);
        }
        using Keynode reopened = Keynode.Open(path, TestFiles.OwnerCredential);
        Assert.Equal(["first", "third"], reopened.Log("a").Select(v => System.Text.Encoding.ASCII.GetString(reopened.Get("a", v.Number).Span)));
    }

    [Fact]
    public void DamagedLastChange_IsIgnoredWithWarning_ButDamageFollowedByChangesFails()
    {
        string path = _files.PathOf("node.keynode");
        using (Keynode node = _files.Create())
        {
            node.Set("a", "first"u8);
            node.Set("a", "second"u8);
        }
        byte[] whole = File.ReadAllBytes(path);
        byte[] lastDamaged = (byte[])whole.Clone();
        lastDamaged[whole.Length - 1024 - 1200] ^= 0xFF;
        File.WriteAllBytes(path, lastDamaged);
        using (Keynode node = Keynode.Open(path, TestFiles.OwnerCredential))
        {
            Assert.Equal("first"u8.ToArray(), node.Get("a").Span.ToArray());
            Assert.Contains("damaged", Assert.Single(node.Warnings));
        }

        byte[] middleDamaged = (byte[])whole.Clone();
        middleDamaged[3000] ^= 0xFF;
        File.WriteAllBytes(path, middleDamaged);
        var error = Assert.Throws<PolykeyException>(() => Keynode.Open(path, TestFiles.OwnerCredential));
        Assert.Contains("corrupt", error.Message);
    }

    public void Dispose() => _files.Dispose();
}
