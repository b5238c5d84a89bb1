using System.Collections.Concurrent;

namespace Parallelize.Orleans.Tests.Support;

/// <summary>
/// What the test executors do, shared by every silo of an in-process cluster (they all run in the test process):
/// which inputs wait at the gate, which throw, and a record of every arrival and cancellation seen on a silo.
/// </summary>
/// <remarks>The cluster tests run one at a time (one collection), so one scenario at a time is current. Declare it after
/// the pool (<c>using Scenario scenario = Scenario.Begin(...)</c>): disposed first, it opens the gate.</remarks>
public sealed class Scenario : IDisposable
{
    private static Scenario s_current = new();
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<(int Input, string Silo)> _arrivals = new();
    private readonly ConcurrentQueue<(int Input, string Silo)> _cancellations = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentDictionary<int, bool> _lostOnce = new();

    public static Scenario Current => Volatile.Read(ref s_current);

    /// <summary>Gets or sets which inputs wait at the gate; none by default.</summary>
    public Func<int, bool> Held { get; init; } = static _ => false;

    /// <summary>Gets or sets a value indicating whether held calls ignore their token (they wait for the gate regardless).</summary>
    public bool IgnoresCancellation { get; init; }

    /// <summary>Gets or sets which inputs make the executor throw.</summary>
    public Func<int, bool> Throws { get; init; } = static _ => false;

    /// <summary>Gets or sets which inputs make the executor say, the first time it sees them, that it was lost (<see cref="ExecutorLostException"/>).</summary>
    public Func<int, bool> LosesOnce { get; init; } = static _ => false;

    public IReadOnlyCollection<(int Input, string Silo)> Arrivals => _arrivals;

    public IReadOnlyCollection<(int Input, string Silo)> Cancellations => _cancellations;

    /// <summary>Makes a new scenario the current one.</summary>
    public static Scenario Begin(Scenario scenario)
    {
        Volatile.Write(ref s_current, scenario);
        return scenario;
    }

    public void Open() => _open.TrySetResult();

    /// <summary>Opens the gate, so that a failed test's pool can still end its calls when it is disposed.</summary>
    public void Dispose() => Open();

    /// <summary>Waits (bounded) until <paramref name="count"/> more calls have arrived at an executor.</summary>
    public async Task WaitForArrivalsAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (!await _arrived.WaitAsync(Timeouts.Wait))
            {
                throw new TimeoutException($"Only {i} of {count} calls arrived at an executor.");
            }
        }
    }

    /// <summary>What an executor on <paramref name="silo"/> does with <paramref name="input"/>.</summary>
    public async Task<Echo> RunAsync(int input, string silo, CancellationToken cancellationToken)
    {
        _arrivals.Enqueue((input, silo));
        _arrived.Release();
        if (Held(input))
        {
            try
            {
                await _open.Task.WaitAsync(IgnoresCancellation ? CancellationToken.None : cancellationToken);
            }
            catch (OperationCanceledException)
            {
                _cancellations.Enqueue((input, silo));
                throw;
            }
        }

        if (LosesOnce(input) && _lostOnce.TryAdd(input, true))
        {
            throw new ExecutorLostException($"the connection behind input {input} broke");
        }

        if (Throws(input))
        {
            throw new InvalidDataException($"input {input} is bad");
        }

        return new Echo(input, silo);
    }
}
