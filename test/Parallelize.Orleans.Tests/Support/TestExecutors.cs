using Orleans.Runtime;

namespace Parallelize.Orleans.Tests.Support;

/// <summary>An asynchronous executor that follows the current <see cref="Scenario"/>; created by the silo's dependency injection.</summary>
public sealed class ScenarioExecutor(ILocalSiloDetails silo) : IAsyncExecutor<int, Echo>
{
    public async ValueTask<Echo> ExecuteAsync(int input, CancellationToken cancellationToken) =>
        await Scenario.Current.RunAsync(input, silo.SiloAddress.ToString(), cancellationToken);
}

/// <summary>A synchronous executor (run on a thread of its own on the silo) with a parameterless constructor.</summary>
public sealed class SyncEchoExecutor : IExecutor<int, Echo>, IDisposable
{
    private static int s_disposed;

    public static int Disposed => Volatile.Read(ref s_disposed);

    public Echo Execute(int input, CancellationToken cancellationToken) =>
        new(input, Thread.CurrentThread.Name ?? "");

    public void Dispose() => Interlocked.Increment(ref s_disposed);
}
