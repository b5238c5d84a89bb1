using System.Globalization;

namespace Parallelize.Orleans.Grains;

/// <summary>The key of an executor grain: <c>{pool}/{slot}/{generation}/{executor name}</c>.</summary>
/// <remarks>The pool's name may not contain <c>/</c> (the options refuse it); the executor's name may, since it comes last.</remarks>
/// <param name="Pool">The pool's name.</param>
/// <param name="Slot">The executor's index in the pool.</param>
/// <param name="Generation">How many times this slot's executor has been created before, plus one.</param>
/// <param name="ExecutorName">The name the executor type is registered under on the silos.</param>
internal readonly record struct ExecutorKey(string Pool, int Slot, long Generation, string ExecutorName)
{
    /// <summary>Formats the key.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Pool}/{Slot}/{Generation}/{ExecutorName}");

    /// <summary>Parses a key made by <see cref="ToString"/>.</summary>
    /// <exception cref="FormatException">The key is not of that form.</exception>
    public static ExecutorKey Parse(string key)
    {
        string[] parts = key.Split('/', 4);
        if (parts.Length != 4
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int slot)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long generation)
            || parts[3].Length == 0)
        {
            throw new FormatException($"'{key}' is not an executor grain key (pool/slot/generation/executor name).");
        }

        return new ExecutorKey(parts[0], slot, generation, parts[3]);
    }
}
