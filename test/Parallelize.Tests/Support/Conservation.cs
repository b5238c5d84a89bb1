using System.Collections.Concurrent;

namespace Parallelize.Tests.Support;

/// <summary>
/// The iron rule as a check: every input a pool accepted ends in exactly one of Results, Failures or the list Stop
/// returned. Compared as multisets, so an input called twice must end twice, and a duplicate or a loss is named.
/// </summary>
internal static class Conservation
{
    /// <summary>Asserts that <paramref name="accepted"/> equals Results (mapped back to inputs) + Failures + <paramref name="aborted"/>.</summary>
    /// <param name="accepted">Every input whose Invoke returned normally (or TryInvoke returned true).</param>
    /// <param name="pool">The pool, after Wait or Stop.</param>
    /// <param name="aborted">What Stop returned (or an empty list if it was never called).</param>
    /// <param name="inputOf">Maps a result back to its input; the identity when executors echo their input.</param>
    public static void AssertHolds<TIn, TOut>(
        IEnumerable<TIn> accepted,
        Parallelize<TIn, TOut> pool,
        IEnumerable<TIn> aborted,
        Func<TOut, TIn> inputOf)
        where TIn : notnull
    {
        var ended = new Dictionary<TIn, List<string>>();
        void End(TIn input, string where)
        {
            if (!ended.TryGetValue(input, out List<string>? places))
            {
                ended[input] = places = [];
            }

            places.Add(where);
        }

        foreach (TOut result in pool.Results.ToArray())
        {
            End(inputOf(result), "Results");
        }

        foreach (Failure<TIn> failure in pool.Failures.ToArray())
        {
            End(failure.Input, "Failures");
        }

        foreach (TIn input in aborted)
        {
            End(input, "aborted");
        }

        var expected = new Dictionary<TIn, int>();
        foreach (TIn input in accepted)
        {
            expected[input] = expected.GetValueOrDefault(input) + 1;
        }

        var problems = new List<string>();
        foreach ((TIn input, int count) in expected)
        {
            int seen = ended.TryGetValue(input, out List<string>? places) ? places.Count : 0;
            if (seen < count)
            {
                problems.Add($"{input}: accepted {count}x but ended {seen}x{Where(places)} (lost)");
            }
            else if (seen > count)
            {
                problems.Add($"{input}: accepted {count}x but ended {seen}x{Where(places)} (duplicated)");
            }
        }

        foreach ((TIn input, List<string> places) in ended)
        {
            if (!expected.ContainsKey(input))
            {
                problems.Add($"{input}: never accepted but ended{Where(places)}");
            }
        }

        Assert.True(problems.Count == 0, "Conservation broken:\n" + string.Join("\n", problems.Take(20)));
    }

    /// <summary>Asserts conservation for a pool whose executors return their input.</summary>
    public static void AssertHolds<T>(IEnumerable<T> accepted, Parallelize<T, T> pool, IEnumerable<T> aborted)
        where T : notnull =>
        AssertHolds(accepted, pool, aborted, static output => output);

    private static string Where(List<string>? places) => places is null ? "" : $" ({string.Join(", ", places)})";
}

/// <summary>Calls a pool and remembers exactly which inputs it accepted, from any number of threads.</summary>
internal sealed class Ledger<TIn>
{
    private readonly ConcurrentQueue<TIn> _accepted = new();

    /// <summary>Gets the accepted inputs so far.</summary>
    public IReadOnlyCollection<TIn> Accepted => _accepted;

    /// <summary>Calls <see cref="Parallelize{TIn, TOut}.Invoke"/>; the input is recorded only if the call returned normally.</summary>
    public void Invoke<TOut>(Parallelize<TIn, TOut> pool, TIn input)
    {
        pool.Invoke(input);
        _accepted.Enqueue(input);
    }

    /// <summary>Calls <see cref="Parallelize{TIn, TOut}.InvokeMany(ReadOnlySpan{TIn})"/> (one burst: every idle executor wakes) and records the inputs it accepted.</summary>
    public void InvokeMany<TOut>(Parallelize<TIn, TOut> pool, params TIn[] inputs)
    {
        int accepted = pool.InvokeMany(inputs);
        foreach (TIn input in inputs.AsSpan(0, accepted))
        {
            _accepted.Enqueue(input);
        }
    }

    /// <summary>Calls <see cref="Parallelize{TIn, TOut}.Invoke"/> and records the input; a refusal of the kind expected is swallowed.</summary>
    /// <returns><see langword="true"/> if the call was accepted.</returns>
    public bool TryInvoke<TOut, TRefusal>(Parallelize<TIn, TOut> pool, TIn input)
        where TRefusal : Exception
    {
        try
        {
            Invoke(pool, input);
            return true;
        }
        catch (TRefusal)
        {
            return false;
        }
    }
}

/// <summary>Checks after a fault that the pool still does its job.</summary>
internal static class StillWorks
{
    /// <summary>Calls the pool with fresh inputs (recorded in the ledger) and asserts each completes into Results.</summary>
    public static async Task AssertAsync<T>(Parallelize<T, T> pool, Ledger<T> ledger, params T[] fresh)
    {
        foreach (T input in fresh)
        {
            ledger.Invoke(pool, input);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        T[] results = pool.Results.ToArray();
        Assert.All(fresh, input => Assert.Contains(input, results));
    }

    /// <summary>Asserts that a stopped (or faulted) pool refuses new calls with <see cref="InvalidOperationException"/>, accepting nothing.</summary>
    public static void AssertRefuses<T>(Parallelize<T, T> pool, T input) =>
        Assert.ThrowsAny<InvalidOperationException>(() => pool.Invoke(input));
}
