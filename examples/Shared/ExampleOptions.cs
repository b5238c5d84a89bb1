using System.Globalization;
using Parallelize.Pipelines;
using Parallelize;

/// <summary>What the examples share: their command line (<c>--name N</c> pairs over defaults) and how they report a pipeline's failures.</summary>
internal static class ExampleOptions
{
    /// <summary>Reads <c>--name N</c> pairs over <paramref name="defaults"/>.</summary>
    /// <returns>The options; <see langword="null"/> if anything else is passed.</returns>
    public static Dictionary<string, int>? Parse(string[] args, Dictionary<string, int> defaults)
    {
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!defaults.ContainsKey(args[i])
                || i + 1 == args.Length
                || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                return null;
            }

            defaults[args[i]] = value;
        }

        return defaults;
    }

    /// <summary>Takes <c>name value</c> out of <paramref name="arguments"/>; a name without a value is left for <see cref="Parse"/> to reject.</summary>
    /// <returns>The value, or <see langword="null"/> if the name is absent.</returns>
    public static string? TakeValue(List<string> arguments, string name)
    {
        int at = arguments.IndexOf(name);
        if (at < 0 || at + 1 == arguments.Count)
        {
            return null;
        }

        string value = arguments[at + 1];
        arguments.RemoveRange(at, 2);
        return value;
    }

    /// <summary>A pipeline stage does not throw for an input that failed: the input goes to the stage's report. Says so on standard error.</summary>
    /// <returns><see langword="true"/> if no stage had a failure.</returns>
    public static bool Succeeded(IReadOnlyList<StageReport> stages)
    {
        bool succeeded = true;
        foreach (StageReport stage in stages)
        {
            foreach ((long callNumber, Exception exception) in stage.FailureExceptions)
            {
                Console.Error.WriteLine($"error: stage {stage.Name}: input {callNumber} failed: {exception.Message}");
                succeeded = false;
            }
        }

        return succeeded;
    }
}
