namespace Parallelize.Orleans.Tests.Support;

/// <summary>Bounds on waits, so that a broken test fails instead of hanging. Never a measure of speed.</summary>
internal static class Timeouts
{
    /// <summary>The longest a test waits for something that should happen.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>The test methods' own timeout, in milliseconds.</summary>
    public const int Test = 120_000;
}
