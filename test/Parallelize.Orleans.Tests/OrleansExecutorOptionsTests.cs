namespace Parallelize.Orleans.Tests;

public sealed class OrleansExecutorOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new OrleansExecutorOptions();

        Assert.Null(options.Name);
        Assert.Equal(TimeSpan.FromSeconds(1), options.MembershipRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), options.SuspectDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), options.StopTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ReplyProbeInterval);
        Assert.Equal(64, options.MaxBatchSize);
        Assert.True(options.Rebalance);
        Assert.Null(options.Logger);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    public void Name_EmptyOrWithSlash_Throws(string name)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new OrleansExecutorOptions { Name = name });
        Assert.Equal(nameof(OrleansExecutorOptions.Name), error.ParamName);
    }

    [Fact]
    public void Durations_OutOfRange_ThrowNamingTheProperty()
    {
        Assert.Equal("MembershipRefreshInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new OrleansExecutorOptions { MembershipRefreshInterval = TimeSpan.Zero }).ParamName);
        Assert.Equal("SuspectDuration", Assert.Throws<ArgumentOutOfRangeException>(() => new OrleansExecutorOptions { SuspectDuration = TimeSpan.FromSeconds(-1) }).ParamName);
        Assert.Equal("StopTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new OrleansExecutorOptions { StopTimeout = TimeSpan.FromSeconds(-1) }).ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void MaxBatchSize_OutOfRange_ThrowsNamingIt(int size)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new OrleansExecutorOptions { MaxBatchSize = size });
        Assert.Equal(nameof(OrleansExecutorOptions.MaxBatchSize), error.ParamName);
        Assert.Equal(size, error.ActualValue);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    public void MaxBatchSize_AtTheLimits_IsKept(int size) =>
        Assert.Equal(size, new OrleansExecutorOptions { MaxBatchSize = size }.MaxBatchSize);
}
