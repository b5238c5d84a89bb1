using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Parallelize.Benchmarks;

/// <summary>The work one call does: nothing, a calibrated CPU spin, a sleep, or an awaited delay. Inputs and outputs are <see cref="long"/>.</summary>
internal static class Work
{
    private const long Multiplier = unchecked((long)0x9E3779B97F4A7C15);

    // Written so that no spin's result is ever provably unused.
    private static long s_sink;

    /// <summary>
    /// A chain of integer arithmetic in which every step needs the previous one's result and the last is returned,
    /// so the JIT can neither remove nor shorten it (no closed form, nothing to vectorize). Compiled fully optimized
    /// from the first call, so that a call costs the same before and after tiered compilation catches up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Spin(long x, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            x = ((x ^ (x >>> 31)) * Multiplier) + 1;
        }

        return x;
    }

    /// <summary>A CPU-bound call of <paramref name="iterations"/> spin steps; 0 is the identity (pure overhead).</summary>
    public static Func<long, long> Cpu(int iterations) =>
        iterations == 0 ? static x => x : x => Spin(x, iterations);

    /// <summary>A call that blocks its thread for <paramref name="milliseconds"/>, like the seed's sleepers.</summary>
    public static Func<long, long> Sleep(int milliseconds) => x =>
    {
        Thread.Sleep(milliseconds);
        return x;
    };

    /// <summary>A call that awaits a delay of <paramref name="milliseconds"/> and holds no thread meanwhile.</summary>
    public static Func<long, Task<long>> Delay(int milliseconds) => async x =>
    {
        await Task.Delay(milliseconds).ConfigureAwait(false);
        return x;
    };

    /// <summary>
    /// Measures how long one spin step takes on this machine: the best of many short runs, since on a shared machine
    /// a short run has a fair chance of not being preempted, and preemption only ever makes a run longer.
    /// </summary>
    public static double NanosecondsPerSpinStep()
    {
        const int Steps = 1_000_000;
        double best = double.MaxValue;
        for (int round = 0; round < 15; round++)
        {
            long start = Stopwatch.GetTimestamp();
            s_sink += Spin(round, Steps);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / Steps);
        }

        return best;
    }

    /// <summary>
    /// The spin steps that make one call cost about <paramref name="nanoseconds"/> when run the way the plain-loop
    /// contender runs it (a delegate call per input, the result stored; the CPU overlaps the end of one call with the
    /// start of the next, so a call costs less than its steps alone), and what a call then costs there.
    /// </summary>
    public static (int Steps, double NanosecondsPerCall) Calibrate(double nanoseconds, double nanosecondsPerStep)
    {
        if (nanoseconds <= 0)
        {
            return (0, MeasurePlainLoop(0, 1_000_000));
        }

        int steps = Math.Max(1, (int)Math.Round(nanoseconds / nanosecondsPerStep));
        int calls = (int)Math.Clamp(5_000_000 / nanoseconds, 500, 1_000_000); // about 5 ms a run
        double measured = MeasurePlainLoop(steps, calls);
        for (int correction = 0; correction < 2 && Math.Abs(measured - nanoseconds) > nanoseconds * 0.03; correction++)
        {
            steps = Math.Max(1, (int)Math.Round(steps * nanoseconds / measured));
            measured = MeasurePlainLoop(steps, calls);
        }

        return (steps, measured);
    }

    /// <summary>Nanoseconds a call in the plain loop: the best of many short runs, after a warm-up that lets tiered compilation optimize the loop and the delegate.</summary>
    private static double MeasurePlainLoop(int steps, int calls)
    {
        Func<long, long> work = Cpu(steps);
        double best = double.MaxValue;
        for (int round = -5; round < 15; round++)
        {
            long start = Stopwatch.GetTimestamp();
            long[] results = Contenders.PlainLoop(work, calls);
            if (round >= 0)
            {
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls);
            }

            s_sink += results[^1];
        }

        return best;
    }
}
