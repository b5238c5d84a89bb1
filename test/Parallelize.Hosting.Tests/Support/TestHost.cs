using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Parallelize.Hosting.Tests.Support;

/// <summary>Builds a real Generic Host in-process, with configuration from a dictionary and a lifetime that registers no signal handlers.</summary>
internal static class TestHost
{
    /// <summary>Builds the host, with the services the test executors use (<see cref="ProbeLog"/>, <see cref="Switchboard"/> and the scoped probes) registered first.</summary>
    public static IHost Build(Action<IServiceCollection> configure, Dictionary<string, string?>? settings = null) =>
        new HostBuilder()
            .ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(settings ?? []))
            .ConfigureServices(services =>
            {
                services.AddSingleton<IHostLifetime, QuietLifetime>();
                services.AddSingleton<ProbeLog>();
                services.AddSingleton<Switchboard>();
                services.AddScoped<Probe>();
                services.AddScoped<AsyncOnlyProbe>();
                configure(services);
            })
            .Build();

    /// <summary>A lifetime that neither waits for anything nor handles Ctrl-C or SIGTERM in the test process.</summary>
    private sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>An aborted-input store in memory: what it loads, and every save it was given.</summary>
internal sealed class MemoryStore<TIn> : IAbortedInputStore<TIn>
{
    public IReadOnlyList<TIn> Saved { get; set; } = [];

    public ConcurrentQueue<IReadOnlyList<TIn>> Saves { get; } = new();

    public int Loads { get; private set; }

    public ValueTask<IReadOnlyList<TIn>> LoadAsync(CancellationToken cancellationToken)
    {
        Loads++;
        return ValueTask.FromResult(Saved);
    }

    public ValueTask SaveAsync(IReadOnlyList<TIn> inputs, CancellationToken cancellationToken)
    {
        Saves.Enqueue([.. inputs]);
        Saved = [.. inputs];
        return ValueTask.CompletedTask;
    }
}

/// <summary>A scoped service that records its creation and disposal, to see the scope of each executor.</summary>
internal sealed class Probe : IDisposable
{
    private int _disposed;

    public Probe(ProbeLog log)
    {
        Id = log.Created(this);
        Log = log;
    }

    public int Id { get; }

    public ProbeLog Log { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Log.Disposals.Arrive();
        }
    }
}

/// <summary>A scoped service that can only be disposed asynchronously (a synchronous scope disposal would throw for it).</summary>
internal sealed class AsyncOnlyProbe : IAsyncDisposable
{
    public AsyncOnlyProbe(ProbeLog log) => Log = log;

    public ProbeLog Log { get; }

    public ValueTask DisposeAsync()
    {
        Log.AsyncDisposals.Arrive();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Every probe created, in order; a singleton.</summary>
internal sealed class ProbeLog
{
    private readonly ConcurrentQueue<Probe> _probes = new();
    private int _count;

    public IReadOnlyCollection<Probe> Probes => _probes;

    public Arrivals Creations { get; } = new();

    public Arrivals Disposals { get; } = new();

    public Arrivals AsyncDisposals { get; } = new();

    public int Created(Probe probe)
    {
        _probes.Enqueue(probe);
        Creations.Arrive();
        return Interlocked.Increment(ref _count);
    }
}

/// <summary>What the test executors share: a gate that held calls wait on, and who started.</summary>
internal sealed class Switchboard
{
    public Gate Gate { get; } = new();

    public Arrivals Started { get; } = new();

    /// <summary>Gets or sets the inputs that hold their call until the gate opens.</summary>
    public Func<int, bool> Holds { get; set; } = static _ => false;

    /// <summary>Gets or sets a value indicating whether held calls ignore their cancellation token, as a hung call would.</summary>
    public bool IgnoreCancellation { get; set; }

    /// <summary>Gets or sets the inputs that throw.</summary>
    public Func<int, bool> Throws { get; set; } = static _ => false;
}

/// <summary>An asynchronous executor with a scoped probe: echoes its input, holds or throws as the switchboard says.</summary>
internal sealed class EchoAsyncExecutor(Probe probe, Switchboard board) : IAsyncExecutor<int, int>
{
    public Probe Probe { get; } = probe;

    public async ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken)
    {
        board.Started.Arrive();
        if (board.Throws(input))
        {
            throw new InvalidOperationException($"{input} throws.");
        }

        if (board.Holds(input))
        {
            await board.Gate.PassAsync(board.IgnoreCancellation ? CancellationToken.None : cancellationToken);
        }

        return input;
    }
}

/// <summary>A synchronous executor with a scoped probe and a scoped asynchronous-only service: echoes, or throws as the switchboard says.</summary>
internal sealed class EchoExecutor(Probe probe, AsyncOnlyProbe asyncProbe, Switchboard board) : IExecutor<int, int>
{
    public Probe Probe { get; } = probe;

    public AsyncOnlyProbe AsyncProbe { get; } = asyncProbe;

    public int Execute(int input, CancellationToken cancellationToken)
    {
        board.Started.Arrive();
        return board.Throws(input) ? throw new InvalidOperationException($"{input} throws.") : input;
    }
}

/// <summary>An executor whose construction fails, so its deferred factory faults and the restart policy retires it.</summary>
internal sealed class BrokenExecutor : IAsyncExecutor<int, int>
{
    public BrokenExecutor() => throw new InvalidOperationException("This executor cannot be made.");

    public ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken) => ValueTask.FromResult(input);
}
