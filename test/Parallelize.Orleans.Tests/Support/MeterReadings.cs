using System.Diagnostics.Metrics;

namespace Parallelize.Orleans.Tests.Support;

/// <summary>Reads an observable counter of the <c>Parallelize.Orleans</c> meter, per silo, for one pool.</summary>
internal static class MeterReadings
{
    public static Dictionary<string, long> Read(string instrument, string poolName)
    {
        var readings = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == ClusterMetrics.MeterName && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? pool = null;
            string? node = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                pool = tag.Key == ClusterMetrics.PoolNameTag ? tag.Value as string : pool;
                node = tag.Key == ClusterMetrics.NodeTag ? tag.Value as string : node;
            }

            if (pool == poolName && node is not null)
            {
                readings[node] = value;
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return readings;
    }
}
