namespace Parallelize.Benchmarks;

/// <summary>Count, sum and exclusive-or of a collection of results: equal to the expected ones only if every result is there once (a lost or doubled result changes the count, a wrong one the sum and the exclusive-or).</summary>
internal readonly record struct Checksum(long Count, long Sum, long Xor)
{
    public static Checksum Of(IEnumerable<long> results)
    {
        long count = 0;
        long sum = 0;
        long xor = 0;
        foreach (long result in results)
        {
            count++;
            sum = unchecked(sum + result);
            xor ^= result;
        }

        return new(count, sum, xor);
    }

    /// <summary>The checksum of <paramref name="work"/> over the inputs 0..calls-1, computed on this thread.</summary>
    public static Checksum Expected(Func<long, long> work, int calls)
    {
        long sum = 0;
        long xor = 0;
        for (long i = 0; i < calls; i++)
        {
            long result = work(i);
            sum = unchecked(sum + result);
            xor ^= result;
        }

        return new(calls, sum, xor);
    }
}
