using Parallelize.Processes;

namespace Parallelize.Tests.Processes;

public sealed class ProcessResultTests
{
    private static ProcessResult Result(int exitCode = 0, bool timedOut = false, string error = "") => new()
    {
        Request = new ProcessRequest("x y"),
        FileName = "tool",
        Arguments = ["-v", "x y"],
        ExitCode = exitCode,
        StandardOutput = "out",
        StandardError = error,
        Elapsed = TimeSpan.FromMilliseconds(12.4),
        TimedOut = timedOut,
    };

    [Theory]
    [InlineData(0, false, true)]
    [InlineData(1, false, false)]
    [InlineData(0, true, false)]
    [InlineData(137, true, false)]
    public void Succeeded_OnlyForExitCodeZeroWithinTheTimeout(int exitCode, bool timedOut, bool succeeded) =>
        Assert.Equal(succeeded, Result(exitCode, timedOut).Succeeded);

    [Fact]
    public void ToString_NamesTheCommandAndHowItEnded()
    {
        Assert.Equal("tool -v 'x y' exited with code 0 in 12 ms", Result().ToString());
        Assert.Equal("tool -v 'x y' timed out and was killed (exit code 137) in 12 ms", Result(137, timedOut: true).ToString());
    }

    [Fact]
    public void ProcessFailedException_WithoutStandardError_SaysHowTheRunEnded()
    {
        var failed = new ProcessFailedException(Result(2));

        Assert.Equal("tool -v 'x y' exited with code 2 in 12 ms.", failed.Message);
        Assert.Equal(2, failed.Result!.ExitCode);
    }

    [Fact]
    public void ProcessFailedException_LongStandardError_QuotesItsEnd()
    {
        string error = new string('a', 1000) + new string('b', 500) + "\n";

        var failed = new ProcessFailedException(Result(1, error: error));

        Assert.EndsWith(". Standard error: …" + new string('b', 500), failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProcessFailedException_StandardConstructors_HaveNoResult()
    {
        var inner = new InvalidOperationException("inner");

        Assert.Null(new ProcessFailedException().Result);
        Assert.Equal("The process failed.", new ProcessFailedException().Message);
        Assert.Equal("why", new ProcessFailedException("why").Message);
        Assert.Same(inner, new ProcessFailedException("why", inner).InnerException);
        Assert.Equal("result", Assert.Throws<ArgumentNullException>(() => new ProcessFailedException((ProcessResult)null!)).ParamName);
    }
}
