using Parallelize.Processes;

namespace Parallelize.Tests.Processes;

public sealed class ProcessExecutorOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new ProcessExecutorOptions();

        Assert.Null(options.Timeout);
        Assert.Equal(ProcessFailureHandling.Fail, options.OnFailure);
        Assert.True(options.CaptureOutput);
        Assert.Null(options.WorkingDirectory);
        Assert.Null(options.Environment);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void Timeout_ValidValues_AreKept()
    {
        Assert.Equal(TimeSpan.FromTicks(1), new ProcessExecutorOptions { Timeout = TimeSpan.FromTicks(1) }.Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(uint.MaxValue - 1), new ProcessExecutorOptions { Timeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1) }.Timeout);
        Assert.Null(new ProcessExecutorOptions { Timeout = null }.Timeout);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(uint.MaxValue)]
    public void Timeout_OutOfRange_ThrowsNamingIt(double milliseconds)
    {
        ArgumentOutOfRangeException thrown = Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessExecutorOptions { Timeout = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.Equal("Timeout", thrown.ParamName);
    }

    [Fact]
    public void OnFailure_UndefinedValue_ThrowsNamingIt()
    {
        ArgumentOutOfRangeException thrown = Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessExecutorOptions { OnFailure = (ProcessFailureHandling)7 });

        Assert.Equal("OnFailure", thrown.ParamName);
        Assert.Equal(ProcessFailureHandling.ReturnResult, new ProcessExecutorOptions { OnFailure = ProcessFailureHandling.ReturnResult }.OnFailure);
    }

    [Fact]
    public void TimeProvider_Null_ThrowsNamingIt()
    {
        ArgumentNullException thrown = Assert.Throws<ArgumentNullException>(() => new ProcessExecutorOptions { TimeProvider = null! });

        Assert.Equal("TimeProvider", thrown.ParamName);
    }
}
