namespace Parallelize.Tests.Support;

/// <summary>Moves a <see cref="ManualTimeProvider"/> forward in steps while the code under test works, until it is done.</summary>
internal static class ClockDriver
{
    /// <summary>
    /// Advances <paramref name="clock"/> by <paramref name="step"/> again and again — letting the pool's timers fire and
    /// its runners act between steps — until <paramref name="done"/> completes; fails instead of hanging.
    /// </summary>
    /// <param name="clock">The pool's clock.</param>
    /// <param name="done">What the test waits for (for example <c>pool.WaitAsync()</c>).</param>
    /// <param name="step">How far each step moves the clock.</param>
    /// <param name="onStep">Looks at the pool after each step (for example to see it paused).</param>
    /// <returns>How much clock time passed.</returns>
    public static async Task<TimeSpan> AdvanceUntilAsync(ManualTimeProvider clock, Task done, TimeSpan step, Action? onStep = null)
    {
        DateTime deadline = DateTime.UtcNow + Timeouts.Hang;
        TimeSpan passed = TimeSpan.Zero;
        while (!done.IsCompleted)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still not done after {passed} of clock time.");
            }

            clock.Advance(step);
            passed += step;
            onStep?.Invoke();
            await Task.WhenAny(done, Task.Delay(1));
        }

        await done;
        return passed;
    }
}
