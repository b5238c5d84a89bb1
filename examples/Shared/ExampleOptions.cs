using System.Globalization;

/// <summary>The examples' command line: <c>--name N</c> pairs over defaults.</summary>
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
}
