using Parallelize.Orleans.Grains;

namespace Parallelize.Orleans.Tests.Grains;

public sealed class ExecutorKeyTests
{
    [Fact]
    public void Parse_KeyWhoseExecutorNameHasSlashes_RoundTrips()
    {
        var key = new ExecutorKey("pool-1", 12, 3, "My.App/Thumbnailer");

        Assert.Equal("pool-1/12/3/My.App/Thumbnailer", key.ToString());
        Assert.Equal(key, ExecutorKey.Parse(key.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("pool/1/2")]
    [InlineData("pool/x/2/name")]
    [InlineData("pool/1/-2/name")]
    [InlineData("pool/1/2/")]
    public void Parse_NotAKey_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => ExecutorKey.Parse(text));
}
