using Parallelize.Processes;

namespace Parallelize.Tests.Processes;

public sealed class ProcessRequestTests
{
    [Fact]
    public void Constructor_CopiesTheArguments()
    {
        List<string> arguments = ["a", "b"];

        var request = new ProcessRequest(arguments);
        arguments.Add("c");

        Assert.Equal(["a", "b"], request.Arguments);
        Assert.Null(request.StandardInput);
        Assert.Null(request.WorkingDirectory);
        Assert.Empty(new ProcessRequest().Arguments);
    }

    [Fact]
    public void Constructor_BadArguments_ThrowNamingTheArgument()
    {
        Assert.Equal("arguments", Assert.Throws<ArgumentNullException>(() => new ProcessRequest((IEnumerable<string>)null!)).ParamName);
        Assert.Equal("arguments", Assert.Throws<ArgumentException>(() => new ProcessRequest("a", null!)).ParamName);
    }

    [Fact]
    public void Equals_SameArgumentsInputAndDirectory_AreEqualWithEqualHashes()
    {
        var first = new ProcessRequest("a", "b") { StandardInput = "in", WorkingDirectory = "dir" };
        var second = new ProcessRequest(new List<string> { "a", "b" }) { StandardInput = "in", WorkingDirectory = "dir" };

        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.True(first == second);
    }

    [Fact]
    public void Equals_AnyPartDiffers_AreNotEqual()
    {
        var request = new ProcessRequest("a", "b") { StandardInput = "in", WorkingDirectory = "dir" };

        Assert.NotEqual(request, new ProcessRequest("a") { StandardInput = "in", WorkingDirectory = "dir" });
        Assert.NotEqual(request, new ProcessRequest("a", "c") { StandardInput = "in", WorkingDirectory = "dir" });
        Assert.NotEqual(request, request with { StandardInput = null });
        Assert.NotEqual(request, request with { WorkingDirectory = "other" });
        Assert.False(request.Equals(null));
    }

    [Fact]
    public void With_KeepsTheArguments()
    {
        var request = new ProcessRequest("a", "b");

        ProcessRequest copy = request with { StandardInput = "x" };

        Assert.Equal(["a", "b"], copy.Arguments);
        Assert.Equal("x", copy.StandardInput);
    }

    [Fact]
    public void ToString_QuotesWhatAShellWouldSplitOrExpand()
    {
        var request = new ProcessRequest("plain-1.txt", "two words", "it's", "", "$HOME", "a=b,c:d@e%f+g");

        Assert.Equal("plain-1.txt 'two words' 'it'\\''s' '' '$HOME' a=b,c:d@e%f+g", request.ToString());
    }
}
