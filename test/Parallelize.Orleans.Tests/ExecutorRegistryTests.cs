using Parallelize.Orleans.Tests.Support;

namespace Parallelize.Orleans.Tests;

public sealed class ExecutorRegistryTests
{
    [Fact]
    public void Add_ExecutorType_IsRegisteredUnderItsFullName()
    {
        var registry = new ExecutorRegistry().Add<SyncEchoExecutor>().Add<ScenarioExecutor>("scenario");

        Assert.Equal(["Parallelize.Orleans.Tests.Support.SyncEchoExecutor", "scenario"], registry.Names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Add_SameNameTwice_Throws()
    {
        var registry = new ExecutorRegistry().Add<SyncEchoExecutor>("echo");

        Assert.Throws<ArgumentException>(() => registry.Add<ScenarioExecutor>("echo"));
    }

    [Fact]
    public void Add_TypeThatIsNoExecutor_ThrowsNamingIt()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new ExecutorRegistry().Add<string>());

        Assert.Contains("System.String implements neither", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ExecutorTypeOfOtherTypes_ThrowsBeforeAnyGrainIsMade()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            OrleansExecutors.Create<SyncEchoExecutor, string, Echo>(null!, 1));

        Assert.Contains("implements neither IExecutor<String, Echo>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => OrleansExecutors.Create<int, Echo>(null!, "x", 1));
        IClusterClient client = System.Reflection.DispatchProxy.Create<IClusterClient, UnusedClient>();
        Assert.Throws<ArgumentException>(() => OrleansExecutors.Create<int, Echo>(client, "", 1));
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => OrleansExecutors.Create<int, Echo>(client, "x", 0)).ParamName);
    }

    /// <summary>A client that is never called: the arguments are refused first.</summary>
    public class UnusedClient : System.Reflection.DispatchProxy
    {
        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException("The client was called.");
    }
}
