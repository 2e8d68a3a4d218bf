using Polykey.Core.Crypto;

namespace Polykey.Core.Tests;

public sealed class RandomBytesTests
{
    [Fact]
    public void Get_FillsEveryByte_AndNoTwoDrawsAreAlike()
    {
        var seen = new HashSet<string>();
        var everyPosition = new bool[4096];
        for (int i = 0; i < 64; i++)
        {
            byte[] bytes = RandomBytes.Get(everyPosition.Length);
            Assert.True(seen.Add(Convert.ToHexString(bytes)));
            for (int j = 0; j < bytes.Length; j++) everyPosition[j] |= bytes[j] != 0;
        }
        Assert.All(everyPosition, Assert.True); // a byte left at zero by a short read would stay zero
        Assert.Empty(RandomBytes.Get(0));
    }

    [Fact]
    public void BouncyCastleSource_DrawsFromTheKernel()
    {
        var random = KernelRandomGenerator.NewSecureRandom();
        byte[] a = new byte[32], b = new byte[32];
        random.NextBytes(a);
        random.NextBytes(b);
        Assert.NotEqual(a, b);
        Assert.NotEqual(new byte[32], a);
    }
}
