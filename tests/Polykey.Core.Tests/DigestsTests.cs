using System.Security.Cryptography;

namespace Polykey.Core.Tests;

/// <summary>Digests answers what OpenSSL answers, by BouncyCastle while inputs are few and small, by OpenSSL after.</summary>
public sealed class DigestsTests
{
    [Fact]
    public void SmallInputs_HashAlike_BeforeAndAfterTheProcessSwitchesToOpenSsl()
    {
        var random = new Random(11);
        // 3 MiB of 5 KB inputs: past the managed budget, whichever tests ran before.
        for (int i = 0; i < 600; i++)
        {
            byte[] data = new byte[random.Next(0, 5 << 10)];
            random.NextBytes(data);
            Assert.Equal(SHA256.HashData(data), Digests.Sha256(data));
            Assert.Equal(SHA1.HashData(data), Digests.Sha1(data));
            using Digests.Incremental incremental = Digests.Sha256Of(data.Length);
            incremental.Append(data.AsSpan(0, data.Length / 2));
            incremental.Append(data.AsSpan(data.Length / 2));
            Assert.Equal(SHA256.HashData(data), incremental.Finish());
        }
    }
}
