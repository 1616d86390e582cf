using AlignCluster.Runtime.Protos;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// Serves envelopes that arrive at a silo: grain requests, one-way messages and membership pings.
/// Returns the RESPONSE envelope (null for ONE_WAY). Failures go into <see cref="Envelope.Error"/>, not exceptions.
/// </summary>
public interface IEnvelopeHandler
{
    ValueTask<Envelope?> HandleAsync(Envelope request, CancellationToken cancellationToken);
}
